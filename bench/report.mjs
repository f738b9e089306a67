// Keeps BENCHMARKS.md as one file of sections, each rewritten by the script that measures it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const FILE = new URL('../BENCHMARKS.md', import.meta.url);
const HEADER =
  '# Benchmarks\n\nEvery figure comes with its command and a baseline measured in the same run: absolute numbers drift between machines and runs, ratios hold.\n';

export function replaceSection(title, body) {
  const text = existsSync(FILE) ? readFileSync(FILE, 'utf8') : HEADER;
  const start = `<!-- ${title}: begin -->`;
  const end = `<!-- ${title}: end -->`;
  const block = `${start}\n## ${title}\n\n${body}\n${end}`;
  const pattern = new RegExp(`${escape(start)}[\\s\\S]*?${escape(end)}`);
  writeFileSync(FILE, pattern.test(text) ? text.replace(pattern, block) : `${text.trimEnd()}\n\n${block}\n`);
}

function escape(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
