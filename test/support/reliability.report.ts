import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const FILE = new URL('../../RELIABILITY.md', import.meta.url);

/** Replaces (or appends) one `## heading` section of RELIABILITY.md, leaving the others alone. */
export function writeReliabilitySection(heading: string, body: string): void {
  const text = existsSync(FILE) ? readFileSync(FILE, 'utf8') : '# Reliability\n';
  const start = text.indexOf(`## ${heading}\n`);
  const block = `## ${heading}\n\n${body.trim()}\n`;
  if (start === -1) {
    writeFileSync(FILE, `${text.trimEnd()}\n\n${block}`);
    return;
  }
  const next = text.indexOf('\n## ', start + 3);
  writeFileSync(FILE, text.slice(0, start) + block + (next === -1 ? '' : text.slice(next)));
}
