/** The salvage library: each capability module's public entry, re-exported. */

export * from './binlog/index.js';
export * from './cutover/index.js';
export * from './demo/index.js';
export * from './environment/index.js';
export * from './errors.js';
export * from './impact/index.js';
export * from './incident/index.js';
export * from './locate/index.js';
export * from './mysql/index.js';
export * from './restore/index.js';
export * from './timeline/index.js';
export * from './undo/index.js';
export * from './verify/index.js';
