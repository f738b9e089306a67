// Regenerates the configuration tables in README.md from the settings classes (`@Setting` docs).
//   npm run build && npm run config:docs
import { readFileSync, writeFileSync } from 'node:fs';
import { SETTINGS_TABLES, renderTable } from './settings-tables.mjs';

const README = new URL('../README.md', import.meta.url);

let text = readFileSync(README, 'utf8');
for (const table of SETTINGS_TABLES) {
  const { title, load } = table;
  const schema = await load();
  const start = `<!-- settings: ${title} -->`;
  const end = `<!-- /settings: ${title} -->`;
  const block = `${start}\n${renderTable(schema, table)}\n${end}`;
  const pattern = new RegExp(`${start}[\\s\\S]*?${end}`);
  if (!pattern.test(text)) throw new Error(`README.md has no "${start}" section`);
  text = text.replace(pattern, block);
}
writeFileSync(README, text);
