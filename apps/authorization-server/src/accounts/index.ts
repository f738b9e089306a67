export * from './account.store.js';
export * from './accounts.config.js';
export * from './accounts.errors.js';
export * from './login.throttle.js';
export * from './password.hasher.js';
export * from './users.file.js';
