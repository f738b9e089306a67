// Server processes and the load generator (autocannon, in this process) of the gateway benchmark.
import { fork } from 'node:child_process';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';

const autocannon = createRequire(import.meta.url)('autocannon');
const SERVER_SCRIPT = new URL('./servers.mjs', import.meta.url);

/** Starts `kind` in its own process; resolves with its URL, a CPU-time probe and stop(). */
export function startServer(kind, options = {}, execArgv = []) {
  const child = fork(SERVER_SCRIPT, [kind], {
    env: { ...process.env, BENCH_SERVER: JSON.stringify(options) },
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code} before it was ready`)));
    child.once('message', (message) => {
      if (!message.ready) return reject(new Error(`${kind} server: unexpected first message`));
      child.removeAllListeners('exit');
      resolve({
        url: message.url,
        pid: child.pid,
        /** Successful requests this server answered under load() so far. */
        served: 0,
        /** CPU time (user + system) of the server process so far, in µs. */
        cpu: () =>
          new Promise((done) => {
            child.once('message', (m) => done(m.cpu.user + m.cpu.system));
            child.send('cpu');
          }),
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
            child.once('exit', () => (clearTimeout(timer), done()));
            child.send('stop');
          }),
      });
    });
  });
}

export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Closed-loop load for `seconds` on `connections` keep-alive connections. Latencies come from autocannon's
 * per-response event (its own histogram rounds to whole milliseconds, too coarse on loopback).
 */
export function load({ url, cookie, connections, seconds, server }) {
  const latencies = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url, connections, duration: seconds, headers: cookie ? { cookie } : {} },
      (error, result) => {
        if (error) return reject(error);
        if (server) server.served += result['2xx'];
        latencies.sort((a, b) => a - b);
        const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
        resolve({
          requests: result['2xx'],
          failures: result.non2xx + result.errors + result.timeouts,
          rps: result['2xx'] / seconds,
          p50: at(0.5),
          p99: at(0.99),
        });
      },
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) latencies.push(ms);
    });
  });
}

export const median = (values) => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!sorted.length) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
