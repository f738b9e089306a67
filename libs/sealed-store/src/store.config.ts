import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, ValidateIf } from 'class-validator';
import { Setting } from '@cloakroom/config';

const HOST_PORT_LIST = /^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/;

/** Settings of the sealed store, shared by every app. */
export class StoreConfig {
  @Setting(
    'Store backend: `redis` or `memory`. Default: `redis` when any REDIS_* address is set, else `memory` (refused in production).',
  )
  @IsOptional()
  @IsIn(['redis', 'memory'])
  STORE_BACKEND?: 'redis' | 'memory';

  @Setting('Standalone Redis URL (`redis://[:password@]host:port[/db]`, `rediss://` for TLS).')
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

  @Setting('Password for Sentinel and Cluster nodes (a REDIS_URL carries its own).')
  @IsOptional()
  @IsString()
  REDIS_PASSWORD?: string;

  @Setting('Prefix of every key this deployment writes, so deployments can share one Redis.', 'cloakroom:')
  @Matches(/^[A-Za-z0-9_.:-]{0,64}$/, { message: 'must be at most 64 characters of A-Z a-z 0-9 _ . : -' })
  REDIS_KEY_PREFIX = 'cloakroom:';

  @Setting('A Redis command unanswered after this many milliseconds fails (HTTP 503).', 2000)
  @IsInt()
  @Min(50)
  @Max(60_000)
  REDIS_COMMAND_TIMEOUT_MS = 2000;

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
