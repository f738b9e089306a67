// Summarises a V8 .cpuprofile (node --cpu-prof): self and inclusive time per function, in µs per request.
//   node bench/gateway/profile-summary.mjs <file.cpuprofile> <requests served> [top=30] [filter]
// Inclusive time counts a function once per sample even when it recurses.
import { readFileSync } from 'node:fs';

const [file, served = '1', top = '30', filter] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const requests = Number(served);
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

const label = (node) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${url.replace(/^.*\/(node_modules|apps|libs)\//, '$1/')}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'} ${where}`.trim();
};

// Sample i lasts timeDeltas[i + 1] µs (V8 records the delta before each sample).
const self = new Map();
const inclusive = new Map();
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i + 1] ?? 0;
  total += dt;
  let node = byId.get(profile.samples[i]);
  const name = label(node);
  self.set(name, (self.get(name) ?? 0) + dt);
  const seen = new Set();
  while (node) {
    const n = label(node);
    if (!seen.has(n)) {
      seen.add(n);
      inclusive.set(n, (inclusive.get(n) ?? 0) + dt);
    }
    node = byId.get(parent.get(node.id));
  }
}

const idle = (self.get('(idle)') ?? 0) + (self.get('(program)') ?? 0);
const rows = (map) =>
  [...map]
    .filter(([name]) => !filter || name.includes(filter))
    .sort((a, b) => b[1] - a[1])
    .slice(0, Number(top))
    .map(([name, us]) => `${(us / requests).toFixed(2).padStart(9)} µs/req  ${name}`)
    .join('\n');
console.log(
  `${file}: ${(total / 1e6).toFixed(1)} s profiled, ${((total - idle) / requests).toFixed(1)} µs/req busy (idle and program excluded), ${requests} requests`,
);
console.log(`\nself time:\n${rows(self)}`);
console.log(`\ninclusive time:\n${rows(inclusive)}`);
