export * from './config.js';
export * from './config-file.js';
export * from './graceful-shutdown.js';
export * from './shutdown.config.js';
