// The settings classes whose tables README.md carries, in README order, and how a table is rendered.
// Each table lists a class's own settings (or its chain up to `until`); the store settings are shared by every app
// and listed once.
import { settingsOf } from '@cloakroom/config';
import { StoreConfig } from '@cloakroom/sealed-store';

const app = (path) => import(new URL(`../apps/${path}`, import.meta.url).href);

export const SETTINGS_TABLES = [
  { title: 'store', load: async () => StoreConfig },
  { title: 'shutdown', load: async () => (await import('@cloakroom/config')).ShutdownConfig },
  { title: 'management', load: async () => (await import('@cloakroom/ops')).OpsConfig },
  { title: 'traces', load: async () => (await import('@cloakroom/ops')).TracingConfig },
  {
    title: 'authorization-server',
    load: async () =>
      (await app('authorization-server/dist/authorization-server.config.js')).AuthorizationServerConfig,
    inherited: true,
  },
  {
    title: 'accounts',
    load: async () => (await app('authorization-server/dist/accounts/accounts.config.js')).AccountsConfig,
  },
  {
    title: 'gateway',
    load: async () => (await app('gateway/dist/gateway.config.js')).GatewayConfig,
    inherited: true,
    until: StoreConfig,
  },
  {
    title: 'demo-api',
    load: async () => (await app('demo-api/dist/demo-api.config.js')).DemoApiConfig,
    inherited: true,
  },
];

export function renderTable(schema, { inherited = false, until } = {}) {
  const rows = settingsOf(schema, { own: !inherited, until }).map(
    (s) => `| \`${s.name}\` | ${s.default === undefined ? '' : `\`${s.default}\``} | ${s.description} |`,
  );
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}
