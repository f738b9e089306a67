// Small helpers shared by the benchmark scripts: timing loops and Markdown output.
import { cpus, totalmem } from 'node:os';

/** Runs fn repeatedly for about `ms` after a warm-up and returns microseconds per operation (median of 5). */
export async function timeOp(fn, { ms = 300, batch = 200 } = {}) {
  const runs = [];
  for (let warm = 0; warm < batch * 5; warm++) await fn();
  for (let r = 0; r < 5; r++) {
    let ops = 0;
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(ms * 1e6) / 5n;
    let now = start;
    while (now < deadline) {
      for (let i = 0; i < batch; i++) await fn();
      ops += batch;
      now = process.hrtime.bigint();
    }
    runs.push(Number(now - start) / 1e3 / ops);
  }
  runs.sort((a, b) => a - b);
  return runs[2];
}

/** Same as timeOp for synchronous functions (no await overhead in the measured loop). */
export function timeSync(fn, { ms = 300, batch = 500 } = {}) {
  const runs = [];
  for (let warm = 0; warm < batch * 5; warm++) fn();
  for (let r = 0; r < 5; r++) {
    let ops = 0;
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(ms * 1e6) / 5n;
    let now = start;
    while (now < deadline) {
      for (let i = 0; i < batch; i++) fn();
      ops += batch;
      now = process.hrtime.bigint();
    }
    runs.push(Number(now - start) / 1e3 / ops);
  }
  runs.sort((a, b) => a - b);
  return runs[2];
}

export function machine() {
  return `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

export function table(headers, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

export const fmt = (n, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '—');
