/** The embedded demo: a shop "production" on a sandbox, a bad migration, and its recovery. */
export { type DemoOptions, type DemoResult, runDemo } from './demo.js';
export {
  BAD_MIGRATION,
  badMigrationStatements,
  SHOP_DDL,
  SHOP_SCHEMA,
  seededRandom,
  seedStatements,
  shopTransaction,
  type WriteOptions,
} from './shop.js';
