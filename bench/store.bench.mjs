// Envelope and sealed-store micro-benchmarks with same-run baselines.
//   npm run bench:store            (needs a build and a Redis at REDIS_URL or 127.0.0.1:6379)
// Prints a Markdown section; with --write it replaces that section in BENCHMARKS.md.
import { createCipheriv, createHash, createSecretKey, hash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Envelope, newSecret, open, seal } from '@cloakroom/envelope';
import { RedisSealedStore } from '@cloakroom/sealed-store';
import { fmt, machine, table, timeOp, timeSync } from './lib.mjs';
import { replaceSection } from './report.mjs';

const sizes = [2048, 8192, 32768];
const envelope = new Envelope({ pepper: randomBytes(32) });
const dek = newSecret();
const key = envelope.keyOf('bench', dek);
const aad = 'gateway.session:{slot}';

const crypto = [];
const slotUs = await timeSync(() => envelope.slotOf('gateway.session', dek));
const sha = await timeSync(() => hash('sha256', 'gateway.session\0' + dek, 'base64url'));
crypto.push([
  'slotOf (HMAC-SHA256)',
  fmt(slotUs),
  'crypto.hash sha256 of the same input',
  fmt(sha),
  fmt(slotUs / sha),
]);
const hkdfUs = await timeSync(() => envelope.keyOf('oidc.AccessToken', 'an-oidc-provider-id-of-some-length'));
const sha2 = await timeSync(() => createHash('sha256').update('an-oidc-provider-id-of-some-length').digest());
crypto.push([
  'keyOf (HKDF, non-DEK id)',
  fmt(hkdfUs),
  'createHash sha256 of the id',
  fmt(sha2),
  fmt(hkdfUs / sha2),
]);
for (const size of sizes) {
  const plaintext = randomBytes(size);
  const iv = randomBytes(12);
  const bare = await timeSync(() => {
    const c = createCipheriv('aes-256-gcm', createSecretKey(key), iv);
    c.update(plaintext);
    c.final();
    c.getAuthTag();
  });
  const sealUs = await timeSync(() => seal(key, plaintext, aad));
  const sealed = seal(key, plaintext, aad);
  const openUs = await timeSync(() => open(key, sealed, aad));
  crypto.push([
    `seal ${size / 1024} KB`,
    fmt(sealUs),
    'bare AES-256-GCM encrypt, fixed IV',
    fmt(bare),
    fmt(sealUs / bare),
  ]);
  crypto.push([
    `open ${size / 1024} KB`,
    fmt(openUs),
    'bare AES-256-GCM encrypt, fixed IV',
    fmt(bare),
    fmt(openUs / bare),
  ]);
}

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `bench:${randomBytes(4).toString('hex')}:`;
const redis = new Redis(url);
const store = new RedisSealedStore(envelope, { connection: { url }, keyPrefix: prefix });
await store.connect();
const storeRows = [];
for (const size of sizes) {
  const value = { blob: randomBytes((size * 3) / 4).toString('base64') };
  const raw = Buffer.from(JSON.stringify(value));
  const secret = newSecret();
  await store.put('bench', secret, value, 300);
  await redis.set(`${prefix}raw`, raw, 'EX', 300);
  const bareGet = await timeOp(() => redis.getBuffer(`${prefix}raw`), { batch: 50 });
  const get = await timeOp(() => store.get('bench', secret), { batch: 50 });
  const bareSet = await timeOp(() => redis.set(`${prefix}raw`, raw, 'EX', 300), { batch: 50 });
  const put = await timeOp(() => store.put('bench', secret, value, 300), { batch: 50 });
  storeRows.push([`get ${size / 1024} KB`, fmt(get), fmt(bareGet), fmt(get / bareGet)]);
  storeRows.push([`put ${size / 1024} KB`, fmt(put), fmt(bareSet), fmt(put / bareSet)]);
}
const keys = await redis.keys(`${prefix}*`);
if (keys.length) await redis.del(...keys);
await store.close();
redis.disconnect();

const section = [
  `Machine: ${machine()}. Command: \`npm run bench:store\` (Redis at ${url.replace(/\/\/.*@/, '//')}).`,
  '',
  'Envelope, µs per operation (median of 5 runs), against a bare primitive measured in the same run:',
  '',
  table(['operation', 'µs/op', 'baseline', 'baseline µs/op', 'ratio'], crypto),
  '',
  'Sealed store round trips on one connection (µs per operation, sequential), against the bare Redis command of the same bytes:',
  '',
  table(['operation', 'sealed store µs/op', 'bare Redis µs/op', 'ratio'], storeRows),
  '',
  "The store's client pipelines the commands issued in one tick (ioredis auto-pipelining); the bare client does not.",
  'A caller that waits for each command in turn pays a little for it here; servers under concurrent load gain',
  '(the authorization server figures below are measured with it).',
].join('\n');

console.log(section);
if (process.argv.includes('--write')) replaceSection('Envelope and sealed store', section);
