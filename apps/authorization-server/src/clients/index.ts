export * from './clients.file.js';
