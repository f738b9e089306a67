// One authorization server in its own process, for the benchmarks: `node server.mjs <sealed|memory>`.
// Reports its URL over IPC, and its RSS when asked; stops on 'stop'.
import { startAuthorizationServer } from '../../apps/authorization-server/dist/bootstrap.js';

const variant = process.argv[2];
const server = await startAuthorizationServer(JSON.parse(process.env.BENCH_AS_ENV), {
  unsealedMemoryAdapter: variant === 'memory',
});
process.send({ url: server.url });
process.on('message', async (message) => {
  if (message === 'rss') process.send({ rss: process.memoryUsage().rss });
  if (message === 'stop') {
    await server.close();
    process.exit(0);
  }
});
