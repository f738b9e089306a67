export * from './jwks.js';
export * from './key-schedule.js';
