export * from './jwks.js';
