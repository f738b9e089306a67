export * from './sealed-oidc.adapter.js';
export * from './oidc-store.config.js';
