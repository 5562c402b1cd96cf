/**
 * Integrity and equality checks: chunked table checksums compared across two
 * servers (verify), baselines of a server (snapshot) and integrity scans
 * against them (detect), CHECK TABLE and foreign-key orphans.
 */
export { type AssertionResult, readAssertions, runAssertions, splitStatements } from './assertions.js';
export { Baseline, type BaselineTable, readBaseline, writeBaseline } from './baseline.js';
export type { ChunkKey, ChunkPlan, EncodedKeyValue, KeyValue } from './chunks.js';
export type { SampleKey, TableComparison, TableStatus } from './compare.js';
export {
  DEFAULT_THRESHOLDS,
  type DetectOptions,
  type DetectReport,
  type DetectThresholds,
  detect,
  type Finding,
  type FindingKind,
  type Severity,
} from './detect.js';
export {
  type CheckMode,
  checkTables,
  type ForeignKey,
  findOrphans,
  listForeignKeys,
  type OrphanCheck,
  type TableCheck,
} from './integrity.js';
export type { SchemaDifference } from './schema.js';
export type { SmokeResult } from './smoke.js';
export { type SnapshotOptions, takeSnapshot } from './snapshot.js';
export { parseTableFilter, SYSTEM_SCHEMAS, type TableFilter, type TableRef } from './tables.js';
export { DEFAULT_CHUNK_ROWS, type VerifyOptions, type VerifyReport, verifyServers } from './verify.js';
