// Small helpers shared by the benchmark scripts: timing loops and Markdown output.
import { cpus, totalmem } from 'node:os';

/** Median µs/op of 5 timed runs of about ms/5 each, after a warm-up; runBatch runs `batch` operations. */
async function measure(runBatch, { ms, batch }) {
  await runBatch();
  const runs = [];
  for (let r = 0; r < 5; r++) {
    let ops = 0;
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(ms * 1e6) / 5n;
    let now = start;
    while (now < deadline) {
      await runBatch();
      ops += batch;
      now = process.hrtime.bigint();
    }
    runs.push(Number(now - start) / 1e3 / ops);
  }
  runs.sort((a, b) => a - b);
  return runs[2];
}

/** µs per operation of an async fn. */
export function timeOp(fn, { ms = 300, batch = 200 } = {}) {
  return measure(
    async () => {
      for (let i = 0; i < batch; i++) await fn();
    },
    { ms, batch },
  );
}

/** µs per operation of a synchronous fn: the batch runs without an await per call. */
export function timeSync(fn, { ms = 300, batch = 500 } = {}) {
  return measure(
    () => {
      for (let i = 0; i < batch; i++) fn();
    },
    { ms, batch },
  );
}

export function machine() {
  return `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

export function table(headers, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

export const fmt = (n, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '—');
