import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { freePort } from './ports.js';

const run = promisify(execFile);

/** PEM files of a TLS server (which also uses its certificate as a client, for replication and the cluster bus). */
export interface ServerTls {
  ca: string;
  cert: string;
  key: string;
  /** `tls-auth-clients yes`: clients must show a certificate the CA signed (mutual TLS). */
  requireClientCertificates?: boolean;
  /** The name the certificate carries when it does not name 127.0.0.1. */
  servername?: string;
}

/** An ACL user; where one is given, the `default` user is switched off. */
export interface AclUser {
  name: string;
  password: string;
  /** Its ACL rules; default `~* &* +@all`. */
  rules?: string;
}

/**
 * How test servers are secured: TLS only (no plain port) and ACL users. `user` is the application's user of
 * the data nodes; `admin` (default: `user`) the topology's own, for replication, the sentinels' monitoring,
 * cluster creation and the readiness probes; `sentinelUser` that of the sentinels (also between sentinels).
 */
export interface RedisSecurity {
  tls?: ServerTls;
  user?: AclUser;
  admin?: AclUser;
  sentinelUser?: AclUser;
}

/** The user the topology itself works as. */
function adminOf(security: RedisSecurity): AclUser | undefined {
  return security.admin ?? security.user;
}

/** How a test reaches a secured server: the user, and TLS trust (and a client certificate when required). */
function accessOf(tls: ServerTls | undefined, user: AclUser | undefined): Access {
  return {
    tls: tls && {
      ca: readFileSync(tls.ca),
      // The servers' certificate, shown as a client certificate, for servers that require one.
      ...(tls.requireClientCertificates && { cert: readFileSync(tls.cert), key: readFileSync(tls.key) }),
      ...(tls.servername && { servername: tls.servername }),
    },
    username: user?.name,
    password: user?.password,
  };
}

type Access = Pick<RedisOptions, 'tls' | 'username' | 'password'>;

/** Configuration lines for TLS on `port` (and no plain port) and ACL users. */
function securityLines(port: number, tls: ServerTls | undefined, users: AclUser[]): string[] {
  const lines = tls
    ? [
        'port 0',
        `tls-port ${port}`,
        `tls-cert-file ${tls.cert}`,
        `tls-key-file ${tls.key}`,
        `tls-ca-cert-file ${tls.ca}`,
        `tls-auth-clients ${tls.requireClientCertificates ? 'yes' : 'no'}`,
        'tls-replication yes',
        'tls-cluster yes',
      ]
    : [`port ${port}`];
  if (users.length > 0) {
    lines.push(
      'user default off',
      ...users.map((u) => `user ${u.name} on >${u.password} ${u.rules ?? '~* &* +@all'}`),
    );
  }
  return lines;
}

/** Real redis-server and redis-sentinel processes in a temporary directory; stop() ends every one. */
class Processes {
  readonly dir = mkdtempSync(join(tmpdir(), 'cloakroom-topology-'));
  private readonly children: ChildProcess[] = [];
  private readonly logs = new Map<ChildProcess, string>();

  spawn(command: string, args: string[]): ChildProcess {
    // Each process's own output, for the error that says why it did not come up.
    const log = openSync(join(this.dir, `${command}-${this.children.length}.log`), 'w');
    const child = spawn(command, args, { stdio: ['ignore', log, log], cwd: this.dir });
    closeSync(log);
    this.children.push(child);
    this.logs.set(child, join(this.dir, `${command}-${this.children.length - 1}.log`));
    return child;
  }

  /** The last lines a process wrote, when it has exited: why a server did not come up. */
  exitReport(child: ChildProcess): string | undefined {
    if (child.exitCode === null && child.signalCode === null) return undefined;
    const log = this.logs.get(child);
    const tail =
      log && existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').slice(-5).join(' | ') : '';
    return `exited (${child.exitCode ?? child.signalCode}): ${tail}`;
  }

  /** A redis-server on 127.0.0.1 that keeps nothing on disk, with extra arguments. */
  redisServer(port: number, extra: string[] = [], security: RedisSecurity = {}): ChildProcess {
    const file = join(this.dir, `redis-${port}.conf`);
    const admin = adminOf(security);
    const users = [...new Set([security.user, admin])].filter((u): u is AclUser => !!u);
    writeFileSync(
      file,
      [
        ...securityLines(port, security.tls, users),
        'bind 127.0.0.1',
        'save ""',
        'appendonly no',
        // A replica's full sync starts at once instead of waiting 5 s for more replicas.
        'repl-diskless-sync-delay 0',
        // A replica authenticates to its master as the topology's user.
        ...(admin ? [`masteruser ${admin.name}`, `masterauth ${admin.password}`] : []),
        '',
      ].join('\n'),
    );
    return this.spawn('redis-server', [file, ...extra]);
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

/** A failure no waiting will mend: {@link until} gives up at once. */
class Fatal extends Error {}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe().catch((error: unknown) => {
      if (error instanceof Fatal) throw error;
      return undefined;
    });
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A client that connects once, never retries and never queues: for probing test servers. */
export function probeClient(port: number, access: Access = {}): Redis {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    ...access,
  });
  client.on('error', () => undefined);
  return client;
}

async function ask<T>(port: number, command: (client: Redis) => Promise<T>, access: Access = {}): Promise<T> {
  const client = probeClient(port, access);
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

/**
 * A master, a replica and three sentinels. With `security`, every process listens on TLS only and has ACL
 * users: the sentinels reach the data nodes as `admin` and each other as `sentinelUser`.
 */
export async function startSentinelTopology(security: RedisSecurity = {}): Promise<SentinelTopology> {
  const processes = new Processes();
  const name = 'cloakroom';
  const [master, replica, ...sentinelPorts] = await Promise.all(Array.from({ length: 5 }, () => freePort()));
  const data = accessOf(security.tls, adminOf(security));
  const sentinel = accessOf(security.tls, security.sentinelUser);
  try {
    processes.redisServer(master, [], security);
    processes.redisServer(replica, ['--replicaof', '127.0.0.1', String(master)], security);
    // Sentinels started once the replica is attached see it in their first INFO, not 10 s later.
    await until('the replica to sync', () =>
      ask(
        replica,
        async (c) => ((await c.info('replication')).includes('master_link_status:up') ? true : undefined),
        data,
      ),
    );
    for (const port of sentinelPorts) {
      const file = join(processes.dir, `sentinel-${port}.conf`);
      const { sentinelUser } = security;
      const admin = adminOf(security);
      writeFileSync(
        file,
        [
          ...securityLines(port, security.tls, sentinelUser ? [sentinelUser] : []),
          'bind 127.0.0.1',
          `sentinel monitor ${name} 127.0.0.1 ${master} 2`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 5000`,
          `sentinel parallel-syncs ${name} 1`,
          ...(admin
            ? [`sentinel auth-user ${name} ${admin.name}`, `sentinel auth-pass ${name} ${admin.password}`]
            : []),
          ...(sentinelUser
            ? [
                `sentinel sentinel-user ${sentinelUser.name}`,
                `sentinel sentinel-pass ${sentinelUser.password}`,
              ]
            : []),
          '',
        ].join('\n'),
      );
      processes.spawn('redis-sentinel', [file]);
    }
    for (const port of sentinelPorts) {
      await until('the sentinels to know the replica', () =>
        ask(
          port,
          async (c) => {
            const replicas = (await c.call('SENTINEL', 'REPLICAS', name)) as unknown[];
            return replicas.length > 0 ? true : undefined;
          },
          sentinel,
        ),
      );
    }
    const masterPort = () =>
      ask(
        sentinelPorts[0],
        async (c) => Number(((await c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as string[])[1]),
        sentinel,
      );
    return {
      sentinels: sentinelPorts.map((port) => `127.0.0.1:${port}`).join(','),
      name,
      masterPort,
      async failover() {
        const before = await masterPort();
        await ask(sentinelPorts[0], (c) => c.call('SENTINEL', 'FAILOVER', name), sentinel);
        return until('the failover', async () => {
          const now = await masterPort();
          if (now === before) return undefined;
          const role = await ask(
            now,
            async (c) => (await c.info('replication')).includes('role:master'),
            data,
          );
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

/**
 * Three masters with `replicas` replicas each (default 1). With `security`, the nodes listen on TLS only,
 * the cluster bus included (`tls-cluster yes`), and have the ACL users of `security`.
 */
export async function startCluster(
  options: { replicas?: number; security?: RedisSecurity } = {},
): Promise<ClusterTopology> {
  const { replicas = 1, security = {} } = options;
  const processes = new Processes();
  const ports = await Promise.all(Array.from({ length: 3 * (1 + replicas) }, () => freePort()));
  const admin = adminOf(security);
  const access = accessOf(security.tls, admin);
  try {
    // The cluster bus on a port of its own: the default, port + 10,000, may be taken (or past 65,535).
    const busPorts = await Promise.all(ports.map(() => freePort()));
    const nodes = ports.map((port, i) =>
      processes.redisServer(
        port,
        [
          '--cluster-enabled',
          'yes',
          '--cluster-port',
          String(busPorts[i]),
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--cluster-node-timeout',
          '2000',
        ],
        security,
      ),
    );
    for (const [i, port] of ports.entries())
      await until(`node ${port}`, () => {
        const exited = processes.exitReport(nodes[i]);
        if (exited) throw new Fatal(`node ${port} ${exited}`);
        return ask(port, async (c) => ((await c.ping()) === 'PONG' ? true : undefined), access);
      });
    const cliSecurity = [
      ...(security.tls
        ? [
            '--tls',
            '--cacert',
            security.tls.ca,
            ...(security.tls.requireClientCertificates
              ? ['--cert', security.tls.cert, '--key', security.tls.key]
              : []),
          ]
        : []),
      ...(admin ? ['--user', admin.name, '--pass', admin.password] : []),
    ];
    await run(
      'redis-cli',
      [
        ...cliSecurity,
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        String(replicas),
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
          access,
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
