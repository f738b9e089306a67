import { describe, expect, it } from '@jest/globals';
import { IsBoolean, IsInt, IsString, Max, Min } from 'class-validator';
import { ConfigInvalid, Setting, loadConfig, settingsOf } from './config.js';

class ExampleConfig {
  @Setting('A port.', 3000)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @Setting('A switch.', false)
  @IsBoolean()
  ENABLED = false;

  @Setting('A name.', 'x')
  @IsString()
  NAME = 'x';
}

describe(loadConfig.name, () => {
  it('keeps defaults and converts numbers and booleans from environment strings', () => {
    expect(loadConfig(ExampleConfig, {})).toMatchObject({ PORT: 3000, ENABLED: false, NAME: 'x' });
    expect(loadConfig(ExampleConfig, { PORT: '0', ENABLED: 'true', NAME: '42' })).toMatchObject({
      PORT: 0,
      ENABLED: true,
      NAME: '42',
    });
    expect(loadConfig(ExampleConfig, { ENABLED: 'off', PORT: '' }).ENABLED).toBe(false);
  });

  it('lists every bad variable with what it expects', () => {
    let error: unknown;
    try {
      loadConfig(ExampleConfig, { PORT: 'eighty', ENABLED: 'maybe' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigInvalid);
    const problems = (error as ConfigInvalid).problems.join('\n');
    expect(problems).toMatch(/PORT: .*integer/);
    expect(problems).toMatch(/ENABLED: .*boolean/);
  });

  it('documents settings in declaration order, base classes first, without leaking into the base', () => {
    class Extended extends ExampleConfig {
      @Setting('More.', 1)
      @IsInt()
      MORE = 1;
    }
    expect(settingsOf(ExampleConfig).map((s) => s.name)).toEqual(['PORT', 'ENABLED', 'NAME']);
    expect(settingsOf(Extended).map((s) => s.name)).toEqual(['PORT', 'ENABLED', 'NAME', 'MORE']);
    expect(settingsOf(Extended, { own: true }).map((s) => s.name)).toEqual(['MORE']);
  });
});
