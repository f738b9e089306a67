import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Type } from 'class-transformer';
import { IsArray, IsBoolean, IsString, ValidateNested } from 'class-validator';
import { checkConfigFile } from './config-file.js';

class Item {
  @IsString() name!: string;
  @IsBoolean() enabled = false;
}

class ExampleFile {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => Item)
  items: Item[] = [];
}

const dir = mkdtempSync(join(tmpdir(), 'cloakroom-config-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe(checkConfigFile.name, () => {
  it('reads YAML and JSON into the schema, with its defaults', () => {
    writeFileSync(join(dir, 'a.yaml'), 'items:\n  - name: x\n');
    writeFileSync(join(dir, 'a.json'), '{"items": [{"name": "y", "enabled": true}]}');
    expect(checkConfigFile(ExampleFile, join(dir, 'a.yaml')).value?.items).toEqual([
      { name: 'x', enabled: false },
    ]);
    expect(checkConfigFile(ExampleFile, join(dir, 'a.json')).value?.items[0].enabled).toBe(true);
  });

  it('refuses unknown keys at every depth, and lists every problem', () => {
    writeFileSync(join(dir, 'b.yaml'), 'items:\n  - name: 1\n    enable: true\ntypo: 1\n');
    const { value, problems } = checkConfigFile(ExampleFile, join(dir, 'b.yaml'));
    expect(value).toBeUndefined();
    expect(problems.sort()).toEqual([
      'items[0].enable: unknown field',
      'items[0].name: name must be a string',
      'typo: unknown field',
    ]);
  });

  it('turns unreadable, unparsable and wrongly named files into problems', () => {
    writeFileSync(join(dir, 'c.yaml'), 'items: [');
    expect(checkConfigFile(ExampleFile, join(dir, 'nope.yaml')).problems).toEqual(['cannot be read: ENOENT']);
    expect(checkConfigFile(ExampleFile, join(dir, 'c.yaml')).problems[0]).toMatch(/^cannot be parsed: /);
    expect(checkConfigFile(ExampleFile, join(dir, 'c.ini')).problems).toEqual([
      'file name must end in .yaml, .yml or .json',
    ]);
    writeFileSync(join(dir, 'd.yaml'), '');
    expect(checkConfigFile(ExampleFile, join(dir, 'd.yaml')).problems).toEqual([
      'the file: must be a mapping',
    ]);
  });
});
