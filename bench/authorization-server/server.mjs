// One authorization server in its own process, for the benchmarks: `node server.mjs <sealed|memory>`.
// Reports its URL over IPC, and its RSS when asked; stops on 'stop'.
//
// `memory` is the baseline: the same server, started the same way, with oidc-provider's own in-memory adapter in
// place of the sealed one. In this process only, @cloakroom/oidc-adapter resolves to a stand-in that gives the
// provider no adapter; the server itself has no switch for it.
import { registerHooks } from 'node:module';

const variant = process.argv[2];
const standIn = new URL('./unsealed-oidc-adapter.mjs', import.meta.url).href;
if (variant === 'memory') {
  registerHooks({
    resolve: (specifier, context, nextResolve) =>
      specifier === '@cloakroom/oidc-adapter' && context.parentURL !== standIn
        ? { url: standIn, shortCircuit: true }
        : nextResolve(specifier, context),
  });
}
const { startAuthorizationServer } = await import('../../apps/authorization-server/dist/bootstrap.js');
const server = await startAuthorizationServer(JSON.parse(process.env.BENCH_AS_ENV));
if (variant === 'memory' && (await import(standIn)).calls === 0) {
  await server.close();
  throw new Error(
    'the memory baseline would measure the sealed adapter: @cloakroom/oidc-adapter was not replaced',
  );
}
process.send({ url: server.url });
process.on('message', async (message) => {
  if (message === 'rss') process.send({ rss: process.memoryUsage().rss });
  if (message === 'stop') {
    await server.close();
    process.exit(0);
  }
});
