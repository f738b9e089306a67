import { requireSupportedNode } from '@cloakroom/config/node-version';

requireSupportedNode('The Cloakroom demo API');
const { closeOnSignals } = await import('@cloakroom/config');
const { startDemoApi } = await import('./bootstrap.js');

try {
  const api = await startDemoApi();
  console.warn(`Cloakroom demo API listening on ${api.url} (health and metrics on ${api.managementUrl})`);
  closeOnSignals(() => api.close(), api.closeDeadlineMs);
} catch (error) {
  const known = error instanceof Error && /Invalid$|Unavailable$/.test(error.name);
  console.error(known ? (error as Error).message : error);
  process.exit(1);
}
