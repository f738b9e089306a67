#!/usr/bin/env node
// The command npm links (`npx cloakroom`). npm links a command only if its file exists at install time, before
// anything is built, so the link points here rather than at dist/main.js, which this runs.
try {
  await import('../dist/main.js');
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('/dist/main.js')) {
    console.error('cloakroom is not built: run `npm run build` first.');
    process.exit(1);
  }
  throw error;
}
