import { requireSupportedNode } from '@cloakroom/config/node-version';

requireSupportedNode('The Cloakroom authorization server');
const { closeOnSignals } = await import('@cloakroom/config');
const { startAuthorizationServer } = await import('./bootstrap.js');

try {
  const server = await startAuthorizationServer();
  closeOnSignals(() => server.close(), server.closeDeadlineMs);
} catch (error) {
  // Configuration and file problems are the operator's to fix: print them plainly, without a stack. Anything
  // else is a fault of ours: its stack goes with it, for the bug report.
  const known = error instanceof Error && /Invalid$|Unavailable$/.test(error.name);
  console.error(known ? (error as Error).message : error);
  process.exit(1);
}
