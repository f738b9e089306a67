export * from './limits.js';
export * from './jwt-shape.js';
export * from './token-analysis.js';
export * from './cookie-analysis.js';
export * from './budget-report.js';
export * from './token-shaping.js';
export * from './token-prediction.js';
