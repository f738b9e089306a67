export * from './logger.js';
export * from './pino-nest.logger.js';
export * from './access-log.js';
export * from './metrics.js';
export * from './store.metrics.js';
