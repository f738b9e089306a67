import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';

const run = promisify(execFile);

/** Real redis-server and redis-sentinel processes in a temporary directory; stop() ends every one. */
class Processes {
  readonly dir = mkdtempSync(join(tmpdir(), 'cloakroom-topology-'));
  private readonly children: ChildProcess[] = [];

  spawn(command: string, args: string[]): ChildProcess {
    const child = spawn(command, args, { stdio: 'ignore', cwd: this.dir });
    this.children.push(child);
    return child;
  }

  /** A redis-server on 127.0.0.1 that keeps nothing on disk, with extra arguments. */
  redisServer(port: number, extra: string[] = []): ChildProcess {
    return this.spawn('redis-server', [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      ...extra,
    ]);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A client that connects once, never retries and never queues: for probing test servers. */
export function probeClient(port: number): Redis {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  client.on('error', () => undefined);
  return client;
}

async function ask<T>(port: number, command: (client: Redis) => Promise<T>): Promise<T> {
  const client = probeClient(port);
  try {
    await client.connect();
    return await command(client);
  } finally {
    client.disconnect();
  }
}

export interface SentinelTopology {
  /** `host:port,…` of the sentinels, for REDIS_SENTINELS. */
  sentinels: string;
  name: string;
  masterPort(): Promise<number>;
  /** Asks the sentinels to fail the master over and waits until they name the new one. */
  failover(): Promise<number>;
  stop(): Promise<void>;
}

/** A master, a replica and three sentinels. */
export async function startSentinelTopology(): Promise<SentinelTopology> {
  const processes = new Processes();
  const name = 'cloakroom';
  const [master, replica, ...sentinelPorts] = await Promise.all(Array.from({ length: 5 }, () => freePort()));
  try {
    processes.redisServer(master);
    processes.redisServer(replica, ['--replicaof', '127.0.0.1', String(master)]);
    for (const port of sentinelPorts) {
      const file = join(processes.dir, `sentinel-${port}.conf`);
      writeFileSync(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `sentinel monitor ${name} 127.0.0.1 ${master} 2`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 5000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      processes.spawn('redis-sentinel', [file]);
    }
    await until('the replica to sync', () =>
      ask(replica, async (c) =>
        (await c.info('replication')).includes('master_link_status:up') ? true : undefined,
      ),
    );
    for (const port of sentinelPorts) {
      await until('the sentinels to know the replica', () =>
        ask(port, async (c) => {
          const replicas = (await c.call('SENTINEL', 'REPLICAS', name)) as unknown[];
          return replicas.length > 0 ? true : undefined;
        }),
      );
    }
    const masterPort = () =>
      ask(sentinelPorts[0], async (c) =>
        Number(((await c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as string[])[1]),
      );
    return {
      sentinels: sentinelPorts.map((port) => `127.0.0.1:${port}`).join(','),
      name,
      masterPort,
      async failover() {
        const before = await masterPort();
        await ask(sentinelPorts[0], (c) => c.call('SENTINEL', 'FAILOVER', name));
        return until('the failover', async () => {
          const now = await masterPort();
          if (now === before) return undefined;
          const role = await ask(now, async (c) => (await c.info('replication')).includes('role:master'));
          return role ? now : undefined;
        });
      },
      stop: () => processes.stop(),
    };
  } catch (error) {
    await processes.stop();
    throw error;
  }
}

export interface ClusterTopology {
  /** `host:port,…` of the masters, for REDIS_CLUSTER_NODES. */
  nodes: string;
  ports: number[];
  stop(): Promise<void>;
}

/** Three masters with a replica each. */
export async function startCluster(): Promise<ClusterTopology> {
  const processes = new Processes();
  const ports = await Promise.all(Array.from({ length: 6 }, () => freePort()));
  try {
    for (const port of ports) {
      processes.redisServer(port, [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        '2000',
      ]);
    }
    for (const port of ports)
      await until(`node ${port}`, () =>
        ask(port, async (c) => ((await c.ping()) === 'PONG' ? true : undefined)),
      );
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ],
      {
        timeout: 30_000,
      },
    );
    for (const port of ports) {
      await until('cluster_state:ok', () =>
        ask(
          port,
          async (c) =>
            ((await c.call('CLUSTER', 'INFO')) as string).includes('cluster_state:ok') || undefined,
        ),
      );
    }
    return {
      nodes: ports
        .slice(0, 3)
        .map((p) => `127.0.0.1:${p}`)
        .join(','),
      ports,
      stop: () => processes.stop(),
    };
  } catch (error) {
    await processes.stop();
    throw error;
  }
}
