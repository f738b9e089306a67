import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { ConfigInvalid, Setting } from '@cloakroom/config';
import type { RedisTls } from './redis-connection.js';

const HOST_PORT_LIST = /^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/;

/** Settings of the sealed store, shared by every app. */
export class StoreConfig {
  @Setting(
    'Store backend: `redis` or `memory`. Default: `redis` when any REDIS_* address is set, else `memory` (refused in production).',
  )
  @IsOptional()
  @IsIn(['redis', 'memory'])
  STORE_BACKEND?: 'redis' | 'memory';

  @Setting(
    'Standalone Redis URL (`redis://[user:password@]host:port[/db]`; `rediss://` for TLS). Credentials go here or in REDIS_USERNAME and REDIS_PASSWORD, not both.',
  )
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, {
    message: 'must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379',
  })
  REDIS_URL?: string;

  @Setting('Sentinel addresses, `host:port,host:port`; used with REDIS_SENTINEL_NAME.')
  @IsOptional()
  @Matches(HOST_PORT_LIST, { message: 'must be a comma-separated list of host:port' })
  REDIS_SENTINELS?: string;

  @Setting('Name of the master watched by the sentinels.', 'mymaster')
  @IsString()
  REDIS_SENTINEL_NAME = 'mymaster';

  @Setting('Redis Cluster seed nodes, `host:port,host:port`.')
  @IsOptional()
  @Matches(HOST_PORT_LIST, { message: 'must be a comma-separated list of host:port' })
  REDIS_CLUSTER_NODES?: string;

  @Setting(
    "ACL user (Redis 6+) of the data nodes, for every topology; needs REDIS_PASSWORD. Without it, the password is the `default` user's.",
  )
  @IsOptional()
  @Matches(/^\S+$/, { message: 'must be a user name without spaces' })
  REDIS_USERNAME?: string;

  @Setting(
    "Password of the data nodes (standalone, Sentinel's master, every Cluster node), of REDIS_USERNAME or of the `default` user.",
  )
  @IsOptional()
  @IsString()
  REDIS_PASSWORD?: string;

  @Setting(
    'ACL user of the sentinels themselves, when they have one (Sentinel only); needs a sentinel password.',
  )
  @IsOptional()
  @Matches(/^\S+$/, { message: 'must be a user name without spaces' })
  REDIS_SENTINEL_USERNAME?: string;

  @Setting(
    'Password of the sentinels themselves (Sentinel only). Default: REDIS_PASSWORD, as sentinels often share it.',
  )
  @IsOptional()
  @IsString()
  REDIS_SENTINEL_PASSWORD?: string;

  @Setting(
    "TLS for Sentinel and Cluster: every connection, to the sentinels and to the data nodes, uses TLS (one switch: the sentinels hand out the master's address and take credentials too). A standalone REDIS_URL chooses with its scheme, `rediss://`. Certificates are always verified.",
    false,
  )
  @IsBoolean()
  REDIS_TLS = false;

  @Setting(
    "PEM file of the CA certificates that signed the Redis servers' certificates (default: the system's CAs). Read once, at start.",
  )
  @IsOptional()
  @IsString()
  REDIS_TLS_CA_FILE?: string;

  @Setting(
    'PEM file of the client certificate, for Redis servers that require one (mutual TLS, `tls-auth-clients yes`); with REDIS_TLS_KEY_FILE. Read once, at start.',
  )
  @IsOptional()
  @IsString()
  REDIS_TLS_CERT_FILE?: string;

  @Setting("PEM file of that certificate's private key, unencrypted. Read once, at start.")
  @IsOptional()
  @IsString()
  REDIS_TLS_KEY_FILE?: string;

  @Setting(
    "Name the servers' certificates carry, when it differs from the address connected to (an IP address, or the addresses that sentinels and cluster nodes announce).",
  )
  @IsOptional()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/, { message: 'must be a host name, e.g. redis.internal' })
  REDIS_TLS_SERVERNAME?: string;

  @Setting('Prefix of every key this deployment writes, so deployments can share one Redis.', 'cloakroom:')
  @Matches(/^[A-Za-z0-9_.:-]{0,64}$/, { message: 'must be at most 64 characters of A-Z a-z 0-9 _ . : -' })
  REDIS_KEY_PREFIX = 'cloakroom:';

  @Setting(
    "A Redis command unanswered after this many milliseconds fails (HTTP 503). Also bounds a sentinel's answer (Sentinel) and a slot-map refresh (Cluster).",
    2000,
  )
  @IsInt()
  @Min(50)
  @Max(60_000)
  REDIS_COMMAND_TIMEOUT_MS = 2000;

  @Setting(
    'A connection (TCP and TLS handshake) not established within this many milliseconds is dropped and retried: to the server, to each sentinel, to each cluster node.',
    10_000,
  )
  @IsInt()
  @Min(100)
  @Max(120_000)
  REDIS_CONNECT_TIMEOUT_MS = 10_000;

  @Setting(
    'Reconnection back-off: attempt n waits between half and all of min(REDIS_RECONNECT_MAX_MS, this × 2^(n−1)) milliseconds. Standalone: reconnecting to the server; Sentinel: to the master, and asking the sentinels again when none answers; Cluster: reconnecting the cluster when no node answers (a single lost node is found again through the slot map).',
    50,
  )
  @IsInt()
  @Min(1)
  @Max(60_000)
  REDIS_RECONNECT_BASE_MS = 50;

  @Setting('Longest wait between reconnection attempts, in milliseconds.', 1000)
  @IsInt()
  @Min(10)
  @Max(600_000)
  REDIS_RECONNECT_MAX_MS = 1000;

  @Setting(
    'Deployment pepper (at least 32 characters): keys the slot hash and salts key derivation. Without it, a Redis dump and a dictionary tell which usernames, client ids and addresses have entries; required in production by the authorization server. Changing it makes every stored value unreachable.',
  )
  @IsOptional()
  @IsString()
  @MinLength(32)
  STORE_PEPPER?: string;

  @Setting(
    'Most entries the memory store keeps before evicting (expired first, then least recently used).',
    100_000,
  )
  @ValidateIf((c: StoreConfig) => c.backend === 'memory')
  @IsInt()
  @Min(100)
  MEMORY_STORE_MAX_ENTRIES = 100_000;

  /** The backend in force: explicit, or Redis as soon as any Redis address is configured. */
  get backend(): 'redis' | 'memory' {
    if (this.STORE_BACKEND) return this.STORE_BACKEND;
    return this.REDIS_URL || this.REDIS_SENTINELS || this.REDIS_CLUSTER_NODES ? 'redis' : 'memory';
  }
}

/**
 * Cross-field rules of the store settings. `pepperRequired`: the app stores entries under low-entropy
 * secrets (usernames, addresses), whose unpeppered slots a dictionary reverses; production then needs one.
 */
export function storeConfigProblems(
  config: StoreConfig,
  production: boolean,
  options: { pepperRequired?: boolean } = {},
): string[] {
  const problems: string[] = [];
  const addresses = [config.REDIS_URL, config.REDIS_SENTINELS, config.REDIS_CLUSTER_NODES].filter(
    Boolean,
  ).length;
  if (config.REDIS_URL && !hasHost(config.REDIS_URL)) {
    problems.push('REDIS_URL: must be a redis:// or rediss:// URL with a host, e.g. redis://127.0.0.1:6379');
  }
  if (addresses > 1) problems.push('REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES: set only one of them');
  if (config.backend === 'redis' && addresses === 0) {
    problems.push('STORE_BACKEND=redis needs REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES');
  }
  problems.push(...redisSecurityProblems(config));
  if (config.REDIS_RECONNECT_BASE_MS > config.REDIS_RECONNECT_MAX_MS) {
    problems.push('REDIS_RECONNECT_BASE_MS: must not exceed REDIS_RECONNECT_MAX_MS');
  }
  if (production && config.backend === 'memory') {
    problems.push(
      'STORE_BACKEND: the memory store is refused in production (NODE_ENV=production); configure Redis',
    );
  }
  if (production && options.pepperRequired && !config.STORE_PEPPER) {
    problems.push(
      'STORE_PEPPER: required in production (at least 32 random characters): without it a Redis dump and a dictionary reveal which usernames have sessions or failed sign-ins, and every sign-in address',
    );
  }
  return problems;
}

const TLS_FILES = ['REDIS_TLS_CA_FILE', 'REDIS_TLS_CERT_FILE', 'REDIS_TLS_KEY_FILE'] as const;
const TLS_SETTINGS = [...TLS_FILES, 'REDIS_TLS_SERVERNAME'] as const;

/** Credentials and TLS: settings that contradict each other or would be silently ignored. */
function redisSecurityProblems(config: StoreConfig): string[] {
  const problems: string[] = [];
  const tlsSet = TLS_SETTINGS.filter((name) => config[name]);
  if (config.backend === 'memory') {
    for (const name of [...(config.REDIS_TLS ? ['REDIS_TLS'] : []), ...tlsSet]) {
      problems.push(
        `${name}: set, but the store is the memory store (no Redis address): remove it or configure Redis`,
      );
    }
    return problems;
  }
  if (config.REDIS_TLS && config.REDIS_URL && !isTlsUrl(config.REDIS_URL)) {
    problems.push('REDIS_TLS: with REDIS_URL, the scheme chooses TLS: write the URL as rediss://');
  } else if (!usesTls(config)) {
    for (const name of tlsSet) {
      problems.push(
        `${name}: only used over TLS: set REDIS_TLS=true (Sentinel, Cluster) or write REDIS_URL as rediss://`,
      );
    }
  }
  if (!config.REDIS_TLS_CERT_FILE !== !config.REDIS_TLS_KEY_FILE) {
    problems.push(
      'REDIS_TLS_CERT_FILE, REDIS_TLS_KEY_FILE: mutual TLS needs both, the certificate and its key',
    );
  }
  if (
    config.REDIS_URL &&
    urlHasCredentials(config.REDIS_URL) &&
    (config.REDIS_USERNAME || config.REDIS_PASSWORD)
  ) {
    problems.push(
      'REDIS_URL, REDIS_USERNAME, REDIS_PASSWORD: give the credentials either in REDIS_URL or in REDIS_USERNAME and REDIS_PASSWORD, not both',
    );
  }
  if (config.REDIS_USERNAME && !config.REDIS_PASSWORD) {
    problems.push('REDIS_USERNAME: needs REDIS_PASSWORD (a user without a password accepts any value)');
  }
  for (const name of ['REDIS_SENTINEL_USERNAME', 'REDIS_SENTINEL_PASSWORD'] as const) {
    if (config[name] && !config.REDIS_SENTINELS) problems.push(`${name}: only used with REDIS_SENTINELS`);
  }
  if (config.REDIS_SENTINEL_USERNAME && !config.REDIS_SENTINEL_PASSWORD && !config.REDIS_PASSWORD) {
    problems.push('REDIS_SENTINEL_USERNAME: needs REDIS_SENTINEL_PASSWORD');
  }
  if (usesTls(config)) problems.push(...redisTlsMaterial(config).problems);
  return problems;
}

function usesTls(config: StoreConfig): boolean {
  return (
    config.backend === 'redis' && (config.REDIS_TLS || (!!config.REDIS_URL && isTlsUrl(config.REDIS_URL)))
  );
}

function isTlsUrl(url: string): boolean {
  return /^rediss:\/\//i.test(url);
}

function urlHasCredentials(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.username !== '' || parsed.password !== '';
  } catch {
    return false;
  }
}

const tlsMaterials = new WeakMap<StoreConfig, { tls?: RedisTls; problems: string[] }>();

/**
 * The TLS material of the Redis connections (undefined without TLS). The files are read once per
 * configuration, when it is validated at boot; a file that cannot be read or holds the wrong thing is a
 * problem naming its variable, never quoting the file.
 */
export function redisTlsMaterial(config: StoreConfig): { tls?: RedisTls; problems: string[] } {
  let material = tlsMaterials.get(config);
  if (!material) {
    material = usesTls(config) ? readTlsFiles(config) : { problems: [] };
    tlsMaterials.set(config, material);
  }
  return material;
}

/** The TLS material for the connection; throws ConfigInvalid when a file is unusable. */
export function redisTlsOf(config: StoreConfig): RedisTls | undefined {
  const { tls, problems } = redisTlsMaterial(config);
  if (problems.length > 0) throw new ConfigInvalid(problems);
  return tls;
}

function readTlsFiles(config: StoreConfig): { tls?: RedisTls; problems: string[] } {
  const problems: string[] = [];
  const read = (name: (typeof TLS_FILES)[number]): Buffer | undefined => {
    const path = config[name];
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (error) {
      problems.push(`${name}: cannot be read: ${codeOf(error) ?? 'error'}`);
      return undefined;
    }
  };
  const ca = read('REDIS_TLS_CA_FILE');
  const cert = read('REDIS_TLS_CERT_FILE');
  const key = read('REDIS_TLS_KEY_FILE');
  if (ca) problems.push(...certificateProblems('REDIS_TLS_CA_FILE', ca));
  const certOk = cert !== undefined && pushAll(problems, certificateProblems('REDIS_TLS_CERT_FILE', cert));
  let keyOk = false;
  if (key) {
    try {
      createPrivateKey(key);
      keyOk = true;
    } catch (error) {
      problems.push(
        `REDIS_TLS_KEY_FILE: holds no unencrypted PEM private key (${codeOf(error) ?? 'unreadable'})`,
      );
    }
  }
  if (certOk && keyOk) {
    try {
      createSecureContext({ cert, key });
    } catch {
      problems.push('REDIS_TLS_KEY_FILE: is not the private key of the certificate in REDIS_TLS_CERT_FILE');
    }
  }
  const tls: RedisTls = { ca, cert, key, servername: config.REDIS_TLS_SERVERNAME };
  return problems.length > 0 ? { problems } : { tls, problems };
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function certificateProblems(name: string, pem: Buffer): string[] {
  const blocks = pem.toString('latin1').match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) return [`${name}: holds no PEM certificate`];
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (error) {
      return [`${name}: holds a certificate that does not parse (${codeOf(error) ?? 'invalid'})`];
    }
  }
  return [];
}

function pushAll(into: string[], problems: string[]): boolean {
  into.push(...problems);
  return problems.length === 0;
}

/** An error's code (ENOENT, ERR_OSSL_…), only if it looks like one: messages may quote what was parsed. */
function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code) ? code : undefined;
}

function hasHost(url: string): boolean {
  try {
    return new URL(url).hostname !== '';
  } catch {
    return false;
  }
}

export function parseHostPorts(list: string): { host: string; port: number }[] {
  return list.split(',').map((item) => {
    const at = item.lastIndexOf(':');
    return { host: item.slice(0, at), port: Number(item.slice(at + 1)) };
  });
}
