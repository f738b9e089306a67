// The settings classes whose tables README.md carries, in README order, and how a table is rendered.
import { settingsOf } from '@cloakroom/config';

export const SETTINGS_TABLES = [
  { title: 'store', load: async () => (await import('@cloakroom/sealed-store')).StoreConfig },
];

export function renderTable(schema) {
  const rows = settingsOf(schema).map(
    (s) => `| \`${s.name}\` | ${s.default === undefined ? '' : `\`${s.default}\``} | ${s.description} |`,
  );
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}
