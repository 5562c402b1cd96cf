/**
 * Locating the bad change: migration-history adapters, ranking of candidate
 * transactions, and the exact cut points around the best one.
 */
export {
  findHistoryTables,
  HISTORY_ADAPTERS,
  type HistoryAdapter,
  type HistoryTable,
  type MigrationRecord,
  type MigrationTool,
  readMigrationRecords,
} from './history.js';
export { describeRange, type LocateOptions, type LocateQuery, locate } from './locate.js';
export { editDistance, findMigration, nearestMigrations } from './match.js';
export { describeRows, type Score, type ScoreContext, scoreTransaction, shorten } from './score.js';
export type {
  BinlogRange,
  Candidate,
  Cut,
  CutCoordinates,
  LocateResult,
  LocateWarning,
  MigrationAnchor,
} from './types.js';
