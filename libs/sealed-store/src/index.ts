export * from './errors.js';
export * from './sealed.store.js';
export * from './redis-connection.js';
export * from './redis-sealed.store.js';
export * from './memory-sealed.store.js';
export * from './store.config.js';
export * from './store.factory.js';
