import { openSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { SESSION_COOKIE } from '../../support/stack.js';
import type { Material } from './hostile.material.js';
import { knownDefect, probe } from './probe.mix.js';

/**
 * Hostile input against the running stack: the probes of a seed (the same seed and index give the same request
 * against the same prepared material), sent by a bounded runner that counts status codes per target. Any 5xx,
 * transport failure, or a forged credential that gets in is a failure with a reproduction line.
 */

const SENDABLE_HEADER = /^[\t\x20-\x7e\x80-\xff]*$/;

export interface Failure {
  index: number;
  target: string;
  status: string;
  note: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** A known, reported defect this failure belongs to. */
  defect?: string;
}

export interface HostileReport {
  seed: number;
  /** Probes the servers answered (or failed to answer). */
  sent: number;
  /** Probes the HTTP client would not send (invalid header bytes): not counted as inputs. */
  refusedByClient: number;
  elapsedMs: number;
  /** target → status (or transport error code) → count */
  counts: Record<string, Record<string, number>>;
  /** The first 200 failures. */
  failures: Failure[];
  /** Failures per known defect, and `unclassified` (all of them). */
  defects: Record<string, number>;
}

/**
 * Sends `total` probes with `concurrency` keep-alive connections per server, stopping early at the time
 * limit. A status ≥ 500, a transport error or a status outside `expect` is a failure.
 */
export async function runHostileInput(
  material: Material,
  options: { seed: number; total: number; concurrency: number; timeLimitMs: number; start?: number },
): Promise<HostileReport> {
  const pool = (origin: string) =>
    new Pool(origin, {
      connections: options.concurrency,
      pipelining: 1,
      headersTimeout: 5000,
      bodyTimeout: 5000,
    });
  const pools = {
    gateway: pool(material.gateway),
    as: pool(material.as),
    demo: pool(material.demo ?? material.as),
  };
  const counts: HostileReport['counts'] = {};
  const failures: Failure[] = [];
  const defects: Record<string, number> = {};
  const started = Date.now();
  // HOSTILE_TRACE=<file>: each probe's index is written before it is sent (finds a probe that hangs a server).
  const trace = process.env.HOSTILE_TRACE ? openSync(process.env.HOSTILE_TRACE, 'w') : undefined;
  let nextIndex = options.start ?? 0;
  const inFlight = new Map<number, string>();
  const ticker =
    trace === undefined
      ? undefined
      : setInterval(() => writeSync(trace, `in flight: ${JSON.stringify([...inFlight])}\n`), 1000);
  let sent = 0;
  let refused = 0;
  const count = (target: string, status: string) => {
    const row = (counts[target] ??= {});
    row[status] = (row[status] ?? 0) + 1;
  };
  const worker = async () => {
    for (;;) {
      const index = nextIndex++;
      if (index >= (options.start ?? 0) + options.total || Date.now() - started > options.timeLimitMs) return;
      const p = probe(options.seed, index, material);
      // A header value HTTP cannot carry (controls, characters beyond Latin-1) is not an input a server can see;
      // undici does not always refuse it cleanly, so it is never sent.
      if (Object.values(p.headers).some((value) => !SENDABLE_HEADER.test(value))) {
        refused++;
        continue;
      }
      if (trace !== undefined) writeSync(trace, `${index} ${p.target} ${p.method} ${p.path.slice(0, 100)}\n`);
      inFlight.set(index, p.note);
      let status: string;
      let failed = false;
      try {
        const response = await pools[p.origin].request({
          path: p.path,
          method: p.method as 'GET',
          headers: p.headers,
          body: p.body,
          // A server that neither answers nor reads the body would stall the run: every probe has a deadline.
          signal: AbortSignal.timeout(8000),
        });
        await response.body.dump({ limit: 1 << 20 }).catch(() => undefined);
        status = String(response.statusCode);
        failed =
          response.statusCode >= 500 ||
          (p.expect !== undefined && !p.expect.includes(response.statusCode)) ||
          (p.deny === true && response.statusCode >= 200 && response.statusCode < 300);
      } catch (error) {
        const code = (error as { code?: string }).code ?? (error as Error).name;
        // undici refusing to send a header value is the client's doing, not an input the server saw.
        if (code === 'UND_ERR_INVALID_ARG') {
          refused++;
          continue;
        }
        status = `error:${code}`;
        failed = true;
      }
      inFlight.delete(index);
      sent++;
      count(p.target, status);
      const defect = failed ? knownDefect(p, status) : undefined;
      if (failed) defects[defect ?? 'unclassified'] = (defects[defect ?? 'unclassified'] ?? 0) + 1;
      // The first 200 failures, and every unclassified one (up to 200 more): those are the new findings.
      if (failed && (failures.length < 200 || (defect === undefined && failures.length < 400))) {
        failures.push({
          index,
          target: p.target,
          status,
          note: p.note,
          method: p.method,
          path: p.path.slice(0, 160),
          headers: Object.fromEntries(
            Object.entries(p.headers).map(([k, v]) => [
              k,
              v.length > 200 ? `${v.slice(0, 200)}…(${v.length})` : v,
            ]),
          ),
          body:
            p.body === undefined
              ? undefined
              : `${p.body.toString().slice(0, 200)}${p.body.length > 200 ? `…(${p.body.length})` : ''}`,
          defect,
        });
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  if (ticker) clearInterval(ticker);
  await Promise.all([pools.gateway.close(), pools.as.close(), pools.demo.close()]);
  return {
    seed: options.seed,
    sent,
    refusedByClient: refused,
    elapsedMs: Date.now() - started,
    counts,
    failures,
    defects,
  };
}

/** Both servers still answer, and the control sessions still work (nothing forged ended them). */
export async function survivors(material: Material): Promise<{ healthz: number[]; sessions: number[] }> {
  await sleep(10);
  const servers = [material.gateway, material.as, ...(material.demo ? [material.demo] : [])];
  const healthz = await Promise.all(servers.map(async (origin) => (await fetch(`${origin}/healthz`)).status));
  const sessions = await Promise.all(
    material.tickets.map(
      async (ticket) =>
        (
          await fetch(`${material.gateway}/api/whoami`, {
            headers: { cookie: `${SESSION_COOKIE}=${ticket}` },
          })
        ).status,
    ),
  );
  return { healthz, sessions };
}

/** The counts as a markdown table: one row per target, one column per status. */
export function formatReport(report: HostileReport): string {
  const statuses = [...new Set(Object.values(report.counts).flatMap((row) => Object.keys(row)))].sort();
  const lines = [
    `| target | ${statuses.join(' | ')} | total |`,
    `|---|${statuses.map(() => '---:').join('|')}|---:|`,
  ];
  for (const [target, row] of Object.entries(report.counts).sort()) {
    const total = Object.values(row).reduce((a, b) => a + b, 0);
    lines.push(`| ${target} | ${statuses.map((s) => row[s] ?? 0).join(' | ')} | ${total} |`);
  }
  const totals = statuses.map((s) =>
    Object.values(report.counts).reduce((sum, row) => sum + (row[s] ?? 0), 0),
  );
  lines.push(`| **all** | ${totals.join(' | ')} | ${report.sent} |`);
  return lines.join('\n');
}
