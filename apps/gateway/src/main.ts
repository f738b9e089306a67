import { requireSupportedNode } from '@cloakroom/config/node-version';

requireSupportedNode('The Cloakroom gateway');
const { ConfigInvalid, closeOnSignals } = await import('@cloakroom/config');
const { startGateway } = await import('./bootstrap.js');

try {
  const gateway = await startGateway(process.env);
  console.warn(
    `Cloakroom gateway listening on ${gateway.url} (health and metrics on ${gateway.managementUrl})`,
  );
  closeOnSignals(() => gateway.close(), gateway.closeDeadlineMs);
} catch (error) {
  if (error instanceof ConfigInvalid) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
