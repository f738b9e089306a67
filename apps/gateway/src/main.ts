import { requireSupportedNode } from '@cloakroom/config/node-version';

requireSupportedNode('The Cloakroom gateway');
const { ConfigInvalid } = await import('@cloakroom/config');
const { startGateway } = await import('./bootstrap.js');

try {
  const gateway = await startGateway(process.env);
  console.warn(`Cloakroom gateway listening on ${gateway.url}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void gateway.close().then(() => process.exit(0));
    });
  }
} catch (error) {
  if (error instanceof ConfigInvalid) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
