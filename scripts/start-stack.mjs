// Runs the demo stack on this machine: authorization server (3000), two demo APIs (orders on 4000, which may
// see only app-orders-* groups, and directory on 4001, which may see them all), gateway (8080).
// With REDIS_URL set, every service uses that Redis; without it, each keeps its data in its own memory
// (fine for a look around, gone at restart). `npm start` builds first.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';

const services = [
  { name: 'authorization-server', main: 'apps/authorization-server/dist/main.js', port: 3000 },
  { name: 'demo-api', main: 'apps/demo-api/dist/main.js', port: 4000 },
  {
    name: 'directory-api',
    main: 'apps/demo-api/dist/main.js',
    port: 4001,
    // The first demo API has the default management port, 9400.
    env: { RESOURCE_AUDIENCE: 'http://localhost:4001', BASE_PATH: '/directory', MANAGEMENT_PORT: '9401' },
  },
  { name: 'gateway', main: 'apps/gateway/dist/main.js', port: 8080 },
];

for (const service of services) {
  if (!existsSync(service.main)) {
    console.error(`${service.main} is missing: run \`npm run build\` first (\`npm start\` does).`);
    process.exit(1);
  }
}
const { requireSupportedNode } = await import('../libs/config/dist/node-version.js');
requireSupportedNode('Cloakroom');

const env = { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'development' };
if (process.env.REDIS_URL) {
  const redisUrl = redisUrlOf(process.env.REDIS_URL);
  if (!redisUrl) {
    console.error(
      `REDIS_URL=${withoutPassword(process.env.REDIS_URL)} is not a Redis URL: write it as redis://host:port (rediss:// for TLS), e.g. redis://127.0.0.1:6379.`,
    );
    process.exit(1);
  }
  if (!(await reachable(redisUrl))) {
    console.error(
      `No Redis answers at REDIS_URL=${withoutPassword(process.env.REDIS_URL)}. Start one (\`redis-server\`, or \`docker run -d -p 127.0.0.1:6379:6379 redis:7-alpine\`) or unset REDIS_URL.`,
    );
    process.exit(1);
  }
  console.log(`Store: Redis at ${withoutPassword(process.env.REDIS_URL)}.`);
} else {
  console.warn(
    'Store: REDIS_URL is not set, so every service keeps its data in its own memory (lost at restart).\n' +
      'For Redis: `redis-server` (or `docker run -d -p 127.0.0.1:6379:6379 redis:7-alpine`) and `REDIS_URL=redis://127.0.0.1:6379 npm start`.',
  );
  env.STORE_BACKEND = 'memory';
}
// Plain-http localhost: the gateway's cookie cannot be Secure/__Host- here (the gateway warns about it).
env.GATEWAY_COOKIE_INSECURE_DEV ??= 'true';
// Each route forwards a token of its own API (RFC 8707), under 4 KiB whatever the user's groups.
env.GATEWAY_ROUTES ??=
  '/api=http://localhost:4000,/directory=http://localhost:4001;resource=http://localhost:4001';

const children = [];
let stopping = false;
for (const service of services) {
  const child = spawn(process.execPath, [service.main], {
    env: { ...env, ...service.env, PORT: String(service.port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      for (const line of chunk.split('\n').filter(Boolean)) console.log(`[${service.name}] ${line}`);
    });
  }
  child.on('exit', (code) => {
    if (!stopping) {
      console.error(`[${service.name}] exited with code ${code}; stopping the stack`);
      stop(code || 1);
    }
  });
  children.push(child);
  await waitForHealth(service);
}
console.log(
  '\nCloakroom is up: open http://localhost:8080 and sign in as alice / wonderland, power-user / many-groups\n' +
    'or group-collector / thousands-of-groups.',
);

for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => stop(0));

/** The URL when it is a redis:// or rediss:// one with a host, else undefined. */
function redisUrlOf(text) {
  try {
    const url = new URL(text);
    return ['redis:', 'rediss:'].includes(url.protocol) && url.hostname ? url : undefined;
  } catch {
    return undefined;
  }
}

/** The URL as it may be printed: a password it carries (`user:password@`) becomes ***, parsable or not. */
function withoutPassword(text) {
  return text.replace(/^([^/]*\/\/[^/@:]*:)[^/]*@/, '$1***@');
}

function stop(code) {
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 1500).unref();
}

async function waitForHealth(service) {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${service.port}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  console.error(`[${service.name}] did not become healthy on port ${service.port}`);
  stop(1);
}

function reachable(url) {
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port || 6379), timeout: 1000 });
    socket.once('connect', () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
