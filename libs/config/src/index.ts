export * from './config.js';
export * from './config-file.js';
