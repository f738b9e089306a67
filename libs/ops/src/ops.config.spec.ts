import { describe, expect, it } from '@jest/globals';
import { checkConfig } from '@cloakroom/config';
import { MANAGEMENT_PORTS, OpsConfig, managementPort, opsConfigProblems } from './ops.config.js';

const demoApi = (port: number) => ({ port, defaultPort: MANAGEMENT_PORTS.demoApi });

describe(OpsConfig.name, () => {
  it('defaults to the app default on 127.0.0.1, and to 0 when the app has port 0', () => {
    const { config, problems } = checkConfig(OpsConfig, {});
    expect(problems).toEqual([]);
    expect(config.MANAGEMENT_HOST).toBe('127.0.0.1');
    expect(managementPort(config, demoApi(4000))).toBe(9400);
    expect(managementPort(config, demoApi(0))).toBe(0);
  });

  it('takes MANAGEMENT_PORT and MANAGEMENT_HOST from the environment', () => {
    const { config, problems } = checkConfig(OpsConfig, {
      MANAGEMENT_PORT: '9401',
      MANAGEMENT_HOST: '0.0.0.0',
    });
    expect(problems).toEqual([]);
    expect(managementPort(config, demoApi(4001))).toBe(9401);
    expect(managementPort(config, demoApi(0))).toBe(9401);
    expect(config.MANAGEMENT_HOST).toBe('0.0.0.0');
  });

  it('names a port that is not one', () => {
    for (const value of ['abc', '70000', '-1', '1.5']) {
      const { problems } = checkConfig(OpsConfig, { MANAGEMENT_PORT: value });
      expect(problems.length).toBeGreaterThan(0);
      expect(problems.every((p) => p.startsWith('MANAGEMENT_PORT: '))).toBe(true);
    }
  });

  it("refuses the app's own port", () => {
    const { config } = checkConfig(OpsConfig, { MANAGEMENT_PORT: '4000' });
    expect(opsConfigProblems(config, demoApi(4000))).toEqual([
      'MANAGEMENT_PORT: 4000 is also PORT; the management server needs a port of its own',
    ]);
    expect(opsConfigProblems(checkConfig(OpsConfig, {}).config, demoApi(9400))).toHaveLength(1);
    expect(opsConfigProblems(checkConfig(OpsConfig, { MANAGEMENT_PORT: '0' }).config, demoApi(0))).toEqual(
      [],
    );
  });
});
