export * from './errors.js';
export * from './response.parser.js';
export * from './http1.pool.js';
