import { requireSupportedNode } from '@cloakroom/config/node-version';

requireSupportedNode('The Cloakroom demo API');
const { startDemoApi } = await import('./bootstrap.js');

try {
  const api = await startDemoApi();
  console.warn(`Cloakroom demo API listening on ${api.url}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void api.close().then(() => process.exit(0)));
  }
} catch (error) {
  const known = error instanceof Error && /Invalid$/.test(error.name);
  console.error(known ? (error as Error).message : error);
  process.exit(1);
}
