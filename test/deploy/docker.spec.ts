import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { loadClients } from '../../apps/authorization-server/src/clients/clients.file.js';
import { parseDockerfile, workspaces } from '../support/dockerfile.parser.js';
import type { Instruction } from '../support/dockerfile.parser.js';

// No Docker engine runs the tests: these read the files and hold them to the rules an image and a demo stack
// must keep. CI also has `docker compose config` parse the compose file where it can install it.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}${path}`, 'utf8');
const WORKSPACES = workspaces(ROOT);

describe('Dockerfile', () => {
  const stages = parseDockerfile(read('Dockerfile'));
  const [build, runtime] = [stages[0]!, stages.at(-1)!];
  const copies = (instructions: Instruction[]) => instructions.filter((i) => i.keyword === 'COPY');
  const sourcesOf = (copy: Instruction) => copy.words.slice(0, -1);

  it('builds in one stage and runs from another', () => {
    expect(stages).toHaveLength(2);
    expect(build.name).toBe('build');
    expect(runtime.base).toBe(build.base);
  });

  it('installs the dependencies from the manifests alone, before any source is copied', () => {
    const install = build.instructions.findIndex((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args));
    expect(install).toBeGreaterThan(0);
    const before = copies(build.instructions.slice(0, install)).flatMap(sourcesOf);
    const manifests = ['package.json', 'package-lock.json', ...WORKSPACES.map((w) => `${w}/package.json`)];
    // Every workspace's manifest (npm links the workspaces), and nothing else.
    expect([...before].sort()).toEqual([...manifests].sort());
    const after = copies(build.instructions.slice(install + 1)).flatMap(sourcesOf);
    expect(after).toEqual(expect.arrayContaining(['libs', 'apps']));
    const compile = build.instructions.findIndex((i) => i.keyword === 'RUN' && /npm run build/.test(i.args));
    expect(compile).toBeGreaterThan(install);
  });

  it("ships only the manifests, the production node_modules and each workspace's dist", () => {
    const allowed = new Set([
      '/app/package.json',
      '/app/node_modules',
      ...WORKSPACES.flatMap((w) => [`/app/${w}/package.json`, `/app/${w}/dist`]),
    ]);
    const shipped = copies(runtime.instructions).flatMap((copy) => {
      expect(copy.flags.from).toBe('build');
      return sourcesOf(copy);
    });
    expect(shipped.filter((source) => !allowed.has(source))).toEqual([]);
    // All of them: node_modules links every workspace, and a missing one breaks at import time.
    expect([...shipped].sort()).toEqual([...allowed].sort());
    for (const source of shipped)
      expect(source).not.toMatch(/\/src\b|\.spec\.|\/test\b|\/bench\b|config\/demo|\/testing\b/);
    expect(build.instructions.some((i) => i.keyword === 'RUN' && /npm prune --omit=dev/.test(i.args))).toBe(
      true,
    );
  });

  it('runs as a non-root user, by number so that Kubernetes can check runAsNonRoot', () => {
    const users = runtime.instructions.filter((i) => i.keyword === 'USER');
    expect(users.length).toBeGreaterThan(0);
    const [uid, gid] = users.at(-1)!.args.split(':');
    expect(uid).toMatch(/^\d+$/);
    expect(Number(uid)).toBeGreaterThan(0);
    expect(Number(gid ?? uid)).toBeGreaterThan(0);
  });

  it('defaults to production and to no demo file', () => {
    const env = runtime.instructions
      .filter((i) => i.keyword === 'ENV')
      .map((i) => i.args)
      .join(' ');
    expect(env).toMatch(/\bNODE_ENV=production\b/);
    expect(env).not.toMatch(/config\/demo|USERS_FILE|CLIENTS_FILE|RESOURCES_FILE/);
    expect(stages.flatMap((s) => copies(s.instructions)).flatMap(sourcesOf)).not.toContainEqual(
      expect.stringMatching(/^(\.\/)?config\b/),
    );
  });

  it('sends no tests, benchmarks, demo configuration or build output to the build', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .filter((line) => line && !line.startsWith('#'));
    expect(ignored).toEqual(
      expect.arrayContaining([
        '**/node_modules',
        '**/dist',
        '**/*.spec.ts',
        '**/src/testing',
        'test',
        'bench',
        'config',
      ]),
    );
  });
});

describe('docker-compose.yml', () => {
  type Service = {
    image?: string;
    command?: string[];
    network_mode?: string;
    networks?: string[];
    ports?: string[];
    environment?: Record<string, string>;
    healthcheck?: { test?: string[] };
    depends_on?: Record<string, { condition: string }>;
  };
  const compose = parse(read('docker-compose.yml'), { merge: true }) as {
    services: Record<string, Service>;
    networks: Record<string, unknown>;
  };
  const services = Object.entries(compose.services);
  const app = (name: string) => compose.services[name]!;
  const portOf = (name: string) => Number(app(name).environment?.PORT);

  it('gives every service its own network namespace on a network of their own', () => {
    expect(Object.keys(compose.networks)).toEqual(['cloakroom']);
    for (const [, service] of services) {
      expect(service.network_mode).toBeUndefined();
      expect(service.networks).toEqual(['cloakroom']);
    }
  });

  it('checks the health of every service, the apps on the port they listen on', () => {
    for (const [name, service] of services) {
      // The name in the comparison says which service lacks one.
      expect([name, service.healthcheck?.test?.[0]]).toEqual([name, 'CMD']);
      if (service.command?.[0] === 'node') {
        expect(service.healthcheck!.test!.join(' ')).toContain(`http://127.0.0.1:${portOf(name)}/readyz`);
      }
    }
  });

  it('keeps Redis off the host, with AOF and an eviction policy that evicts nothing', () => {
    const redis = app('redis');
    expect(redis.ports).toBeUndefined();
    for (const [, service] of services) {
      for (const port of service.ports ?? []) {
        expect(port).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
        expect(port).not.toMatch(/:6379$/);
      }
    }
    const command = redis.command!.join(' ');
    expect(command).toMatch(/--appendonly yes\b/);
    expect(command).toMatch(/--maxmemory-policy noeviction\b/);
    expect(command).toMatch(/--maxmemory \d+/);
  });

  it('lets the browser use localhost:3000 and localhost:8080, and the containers use service names', () => {
    expect(app('authorization-server').ports).toContain('127.0.0.1:3000:3000');
    expect(app('gateway').ports).toContain('127.0.0.1:8080:8080');
    for (const name of ['gateway', 'demo-api', 'directory-api']) {
      expect(app(name).environment).toMatchObject({
        ISSUER_URL: 'http://localhost:3000',
        ISSUER_INTERNAL_URL: `http://authorization-server:${portOf('authorization-server')}`,
        REDIS_URL: 'redis://redis:6379',
      });
    }
    // Every gateway route goes to a service by name, on the port it listens on.
    const routes = app('gateway').environment!.GATEWAY_ROUTES!.split(',');
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) {
      const upstream = new URL(route.split(';')[0]!.split('=')[1]!);
      expect(compose.services[upstream.hostname]).toBeDefined();
      expect(Number(upstream.port)).toBe(portOf(upstream.hostname));
    }
  });

  it("has the authorization server post back-channel logouts to the gateway's service", () => {
    const env = app('authorization-server').environment!;
    const { clients } = loadClients(`${ROOT}config/demo/clients.yaml`, { env });
    const uri = new URL(clients.find((c) => c.client_id === 'gateway')!.backchannel_logout_uri!);
    expect(uri.hostname).toBe('gateway');
    expect(Number(uri.port)).toBe(portOf('gateway'));
    expect(uri.pathname).toBe('/auth/backchannel-logout');
  });

  it('starts the apps once what they need is healthy', () => {
    expect(app('authorization-server').depends_on).toEqual({ redis: { condition: 'service_healthy' } });
    for (const name of ['gateway', 'demo-api', 'directory-api']) {
      expect(app(name).depends_on?.['authorization-server']).toEqual({ condition: 'service_healthy' });
    }
  });
});
