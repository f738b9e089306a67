export * from './errors.js';
export * from './session.codec.js';
export * from './session.cache.js';
export * from './session.lock.js';
export * from './invalidation.bus.js';
export * from './bff-sessions.js';
