import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Cluster, Redis } from 'ioredis';
import { RedisInvalidationBus, RedisSessionLock } from '@cloakroom/bff';
import { loadConfig } from '@cloakroom/config';
import { newSecret } from '@cloakroom/envelope';
import {
  RedisSealedStore,
  StoreConfig,
  StoreUnavailable,
  createSealedStore,
  storeConfigProblems,
} from '@cloakroom/sealed-store';
import { freePort } from '../support/ports.js';
import { startCluster, startSentinelTopology } from '../support/redis-topology.js';
import type { AclUser, ClusterTopology, SentinelTopology } from '../support/redis-topology.js';
import { createTestCertificates } from '../support/tls-certificates.js';
import type { TestCertificates } from '../support/tls-certificates.js';

// Every server here listens on TLS only (`port 0`) and has its `default` user switched off: whatever answers
// went through TLS, as an ACL user. The application's user has the rules the README recommends: the store's and
// the gateway's commands, on the deployment's keys and channels only.
const APP_RULES =
  '~cloakroom:* &cloakroom:* +@read +@write +@scripting +@pubsub +@connection -@dangerous +info +cluster|slots +cluster|info';
const user: AclUser = {
  name: 'cloakroom',
  password: `data-${randomBytes(9).toString('base64url')}`,
  rules: APP_RULES,
};
const admin: AclUser = { name: 'operator', password: `admin-${randomBytes(9).toString('base64url')}` };
const sentinelUser: AclUser = {
  name: 'watcher',
  password: `sentinel-${randomBytes(9).toString('base64url')}`,
};

/** A store built the way the apps build it: settings validated (files read), then the factory. */
function storeFrom(env: Record<string, string>): RedisSealedStore {
  const config = loadConfig(StoreConfig, { REDIS_COMMAND_TIMEOUT_MS: '1000', ...env }, (c) =>
    storeConfigProblems(c, true),
  );
  const store = createSealedStore(config) as RedisSealedStore;
  return store;
}

/** What the gateway does with the store's client: a refresh lock on it, and a bus on a duplicate of it. */
async function roundTrip(store: RedisSealedStore): Promise<void> {
  const prefix = `cloakroom:tls-test:${randomBytes(4).toString('hex')}:`;
  // Connected first, as the apps do at boot: with the offline queue off, commands sent while connecting fail.
  await store.ping();
  // Sealed put and get, on keys spread over the slots of a cluster.
  const secrets = Array.from({ length: 12 }, () => newSecret());
  await Promise.all(secrets.map((secret, i) => store.put('t.tls', secret, { i }, 60)));
  expect(await Promise.all(secrets.map((secret) => store.get('t.tls', secret)))).toEqual(
    secrets.map((_, i) => ({ i })),
  );
  await Promise.all(secrets.map((secret) => store.destroy('t.tls', secret)));

  const lock = new RedisSessionLock(store.client, { keyPrefix: prefix, leaseMs: 2000 });
  const held = await lock.tryAcquire('slot');
  expect(held).toBeDefined();
  expect(await lock.tryAcquire('slot')).toBeUndefined();
  await held!.release();

  // Each gateway instance subscribes on a duplicate of the store's client: it must keep TLS and the user.
  const duplicate = () =>
    store.client instanceof Cluster ? store.client.duplicate() : (store.client as Redis).duplicate();
  const buses = [0, 1].map(() => new RedisInvalidationBus(store.client, duplicate(), `${prefix}invalidate`));
  const received: string[] = [];
  buses[1].onMessage((message) => received.push(message));
  try {
    await Promise.all(buses.map((bus) => bus.start()));
    await until(() => buses.every((bus) => bus.live), 'both buses subscribed');
    await buses[0].publish('s:slot-1');
    await until(() => received.includes('s:slot-1'), 'the invalidation delivered');
  } finally {
    await Promise.all(buses.map((bus) => bus.close()));
  }
}

/** Connected as the application's user: keys outside the deployment's prefix are refused. */
async function expectApplicationUser(client: Redis): Promise<void> {
  await expect(client.get('elsewhere:key')).rejects.toThrow(/NOPERM/);
}

/** True when the server answers a plain-text client with the right credentials: on TLS only, it must not. */
async function answersPlainText(port: number, as: AclUser): Promise<boolean> {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    username: as.name,
    password: as.password,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    // The TLS server never answers the plain-text client's goodbye: do not wait the default 2 s for it.
    disconnectTimeout: 100,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** True when something accepts TCP connections on the port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The store's first command fails; returns that failure. */
async function failureOf(store: RedisSealedStore): Promise<unknown> {
  try {
    return await store.get('t.tls', newSecret()).then(
      () => undefined,
      (error: unknown) => error,
    );
  } finally {
    await store.close();
  }
}

function expectUnavailableWithoutSecrets(error: unknown, reason: RegExp, secrets: string[]): void {
  expect(error).toBeInstanceOf(StoreUnavailable);
  expect((error as Error).message).toMatch(reason);
  const everything = inspect(error, { depth: null, showHidden: true });
  for (const secret of secrets) expect(everything).not.toContain(secret);
}

describe('Redis over TLS with ACL users', () => {
  let certs: TestCertificates;
  const children: ChildProcess[] = [];

  /** A standalone redis-server on TLS only, with the ACL user. */
  async function tlsServer(options: { named?: boolean; mutual?: boolean } = {}): Promise<number> {
    const port = await freePort();
    const server = options.named ? certs.namedServer : certs.server;
    const file = join(certs.dir, `redis-${port}.conf`);
    writeFileSync(
      file,
      [
        'port 0',
        `tls-port ${port}`,
        'bind 127.0.0.1',
        'save ""',
        'appendonly no',
        `tls-cert-file ${server.cert}`,
        `tls-key-file ${server.key}`,
        `tls-ca-cert-file ${certs.ca}`,
        `tls-auth-clients ${options.mutual ? 'yes' : 'no'}`,
        'user default off',
        `user ${user.name} on >${user.password} ${APP_RULES}`,
        '',
      ].join('\n'),
    );
    const child = spawn('redis-server', [file], { stdio: 'ignore' });
    children.push(child);
    const deadline = Date.now() + 10_000;
    while (!(await accepts(port))) {
      if (Date.now() > deadline) throw new Error(`redis-server did not start on ${port}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return port;
  }

  beforeAll(async () => {
    certs = await createTestCertificates();
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    certs?.remove();
  });

  describe('standalone (rediss://)', () => {
    let port: number;
    let mutualPort: number;
    let namedPort: number;
    beforeAll(async () => {
      [port, mutualPort, namedPort] = await Promise.all([
        tlsServer(),
        tlsServer({ mutual: true }),
        tlsServer({ named: true }),
      ]);
    }, 30_000);

    const credentials = () => ({ REDIS_USERNAME: user.name, REDIS_PASSWORD: user.password });

    it('round-trips sealed values, the refresh lock and publish/subscribe through a duplicate, as the ACL user', async () => {
      const store = storeFrom({
        REDIS_URL: `rediss://127.0.0.1:${port}`,
        REDIS_TLS_CA_FILE: certs.ca,
        ...credentials(),
      });
      try {
        await roundTrip(store);
        await expectApplicationUser(store.client as Redis);
      } finally {
        await store.close();
      }
      expect(await answersPlainText(port, user)).toBe(false);
    });

    it('takes the user and password from the URL as well', async () => {
      const url = `rediss://${user.name}:${encodeURIComponent(user.password)}@127.0.0.1:${port}`;
      const store = storeFrom({ REDIS_URL: url, REDIS_TLS_CA_FILE: certs.ca });
      try {
        await store.ping();
      } finally {
        await store.close();
      }
    });

    it('refuses a server whose certificate another CA signed: 503-kind, saying why', async () => {
      const error = await failureOf(
        storeFrom({
          REDIS_URL: `rediss://127.0.0.1:${port}`,
          REDIS_TLS_CA_FILE: certs.otherCa,
          ...credentials(),
        }),
      );
      expectUnavailableWithoutSecrets(
        error,
        /TLS handshake with Redis failed \(SELF_SIGNED_CERT_IN_CHAIN\)/,
        [user.password],
      );
    });

    it('refuses a wrong password, holding neither password anywhere in the error', async () => {
      const wrong = `wrong-${randomBytes(9).toString('base64url')}`;
      const error = await failureOf(
        storeFrom({
          REDIS_URL: `rediss://127.0.0.1:${port}`,
          REDIS_TLS_CA_FILE: certs.ca,
          REDIS_USERNAME: user.name,
          REDIS_PASSWORD: wrong,
        }),
      );
      expectUnavailableWithoutSecrets(error, /Redis refused the user name or password/, [
        wrong,
        user.password,
      ]);
    });

    it('shows the client certificate to a server that requires one (mutual TLS), and is refused without it', async () => {
      const env = {
        REDIS_URL: `rediss://127.0.0.1:${mutualPort}`,
        REDIS_TLS_CA_FILE: certs.ca,
        ...credentials(),
      };
      const store = storeFrom({
        ...env,
        REDIS_TLS_CERT_FILE: certs.client.cert,
        REDIS_TLS_KEY_FILE: certs.client.key,
      });
      try {
        await roundTrip(store);
      } finally {
        await store.close();
      }
      const error = await failureOf(storeFrom(env));
      expectUnavailableWithoutSecrets(error, /Redis is not reachable|TLS handshake with Redis failed/, [
        user.password,
      ]);
    });

    it('checks the certificate against REDIS_TLS_SERVERNAME when it does not name the address', async () => {
      const env = {
        REDIS_URL: `rediss://127.0.0.1:${namedPort}`,
        REDIS_TLS_CA_FILE: certs.ca,
        ...credentials(),
      };
      const error = await failureOf(storeFrom(env));
      expectUnavailableWithoutSecrets(
        error,
        /TLS handshake with Redis failed \(ERR_TLS_CERT_ALTNAME_INVALID\)/,
        [user.password],
      );
      const store = storeFrom({ ...env, REDIS_TLS_SERVERNAME: 'redis.internal' });
      try {
        await store.ping();
      } finally {
        await store.close();
      }
    });
  });

  describe('Sentinel with TLS and ACL users on the sentinels and the data nodes', () => {
    let topology: SentinelTopology;
    beforeAll(async () => {
      topology = await startSentinelTopology({
        tls: { ca: certs.ca, cert: certs.server.cert, key: certs.server.key },
        user,
        admin,
        sentinelUser,
      });
    }, 60_000);
    afterAll(async () => {
      await topology?.stop();
    });

    const env = () => ({
      REDIS_SENTINELS: topology.sentinels,
      REDIS_SENTINEL_NAME: topology.name,
      REDIS_TLS: 'true',
      REDIS_TLS_CA_FILE: certs.ca,
      REDIS_USERNAME: user.name,
      REDIS_PASSWORD: user.password,
      REDIS_SENTINEL_USERNAME: sentinelUser.name,
      REDIS_SENTINEL_PASSWORD: sentinelUser.password,
    });

    it('finds the master through the sentinels and round-trips, lock and bus included', async () => {
      const store = storeFrom(env());
      try {
        await roundTrip(store);
        await expectApplicationUser(store.client as Redis);
      } finally {
        await store.close();
      }
      const [firstSentinel] = topology.sentinels.split(',');
      expect(await answersPlainText(Number(firstSentinel.split(':')[1]), sentinelUser)).toBe(false);
      expect(await answersPlainText(await topology.masterPort(), user)).toBe(false);
    });

    it('says when the sentinels refuse their password, quoting no password', async () => {
      const wrong = `wrong-${randomBytes(9).toString('base64url')}`;
      const error = await failureOf(
        storeFrom({
          ...env(),
          REDIS_SENTINEL_PASSWORD: wrong,
          REDIS_RECONNECT_BASE_MS: '10',
          REDIS_RECONNECT_MAX_MS: '50',
        }),
      );
      // ioredis' sentinel connector makes one more attempt after the store closed (after its back-off): let it
      // end while the sentinels still answer, or its connection lingers 2 s before being destroyed.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expectUnavailableWithoutSecrets(error, /the sentinels refused the user name or password/, [
        wrong,
        user.password,
        sentinelUser.password,
      ]);
    });
  });

  describe('Cluster with TLS on clients and the cluster bus, and an ACL user', () => {
    let cluster: ClusterTopology;
    beforeAll(async () => {
      // The nodes announce 127.0.0.1; their certificate names redis.internal only.
      cluster = await startCluster({
        replicas: 0,
        security: {
          tls: {
            ca: certs.ca,
            cert: certs.namedServer.cert,
            key: certs.namedServer.key,
            servername: 'redis.internal',
          },
          user,
          admin,
        },
      });
    }, 60_000);
    afterAll(async () => {
      await cluster?.stop();
    });

    const env = () => ({
      REDIS_CLUSTER_NODES: cluster.nodes,
      REDIS_TLS: 'true',
      REDIS_TLS_CA_FILE: certs.ca,
      REDIS_TLS_SERVERNAME: 'redis.internal',
      REDIS_USERNAME: user.name,
      REDIS_PASSWORD: user.password,
    });

    it('round-trips on every master, lock and bus included', async () => {
      const store = storeFrom(env());
      try {
        await roundTrip(store);
        const masters = (store.client as Cluster).nodes('master');
        expect(masters).toHaveLength(3);
        for (const node of masters) await expectApplicationUser(node);
      } finally {
        await store.close();
      }
      for (const port of cluster.ports) expect(await answersPlainText(port, user)).toBe(false);
    });

    it('refuses a wrong password, quoting no password', async () => {
      const wrong = `wrong-${randomBytes(9).toString('base64url')}`;
      const error = await failureOf(storeFrom({ ...env(), REDIS_PASSWORD: wrong }));
      expectUnavailableWithoutSecrets(error, /Redis refused the user name or password/, [
        wrong,
        user.password,
      ]);
    });
  });
});
