/**
 * Impact of a bad change: rows changed, columns changed and how, later writes
 * to the same rows (the conflict set undo needs), FK orphans present now.
 */
export { classifyStatement, type SchemaChange, type SchemaChangeKind } from './ddl.js';
export {
  type ImpactOptions,
  type ImpactReport,
  type LaterWrite,
  laterWrites,
  measureImpact,
} from './measure.js';
export { countOrphans, type ForeignKeyOrphans } from './orphans.js';
export {
  type ChangedRow,
  changedRowsOf,
  displayColumnValue,
  displayValue,
  identityColumns,
  keyObject,
  rowKey,
  sameValue,
  valueKey,
} from './rows.js';
export {
  type ChangeEvent,
  type ChangeSource,
  changesOf,
  openChangeSource,
  readChangesFrom,
} from './source.js';
export { type ColumnChange, describeTableImpact, summarizeChanges, type TableImpact } from './summary.js';
export {
  type ColumnFacts,
  identifyingKey,
  isTextType,
  joinTableFacts,
  type RowAddress,
  readTableFacts,
  type TableFacts,
  tableName,
} from './tables.js';
export {
  type BadChange,
  type BadTransaction,
  type ChangeCollector,
  changeCollector,
  changeKeys,
  refuseMissingTransactions,
  type Trace,
  type TraceOptions,
  traceBadChanges,
} from './trace.js';
