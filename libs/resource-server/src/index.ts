export * from './bearer.strategy.js';
export * from './principal.js';
export * from './resource-server.config.js';
export * from './resource-server.errors.js';
export * from './resource-server.filter.js';
export * from './resource-server.guards.js';
export * from './resource-server.module.js';
export * from './token-verifier.js';
