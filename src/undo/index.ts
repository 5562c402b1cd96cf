/**
 * Undo: compensating SQL for bad transactions, from the binlog, exact for
 * every column type, guarded against rows changed since (conflicts).
 */
export { type ApplyOptions, type ApplyResult, applyUndo } from './apply.js';
export { exactMatch, keyMatch, SESSION_SETUP, valueLiteral } from './literal.js';
export {
  type ConflictPolicy,
  describeRestorePlan,
  planUndo,
  type RowUndo,
  type UndoConflict,
  type UndoOptions,
  type UndoPlan,
} from './plan.js';
export {
  affectedTables,
  type Rehearsal,
  type RehearsalOptions,
  rehearseUndo,
  tableChecksums,
} from './rehearse.js';
export {
  applySchemaLossScript,
  recoverSchemaLoss,
  type SchemaLossOptions,
  type SchemaLossRecovery,
  type TableRecovery,
} from './schema-loss.js';
export {
  redoScript,
  type ScriptHeader,
  undoScript,
  undoScriptLines,
  writeFileAtomically,
} from './script.js';
export {
  compensate,
  type GuardMode,
  invert,
  rowCondition,
  type UndoStatement,
  writeChange,
} from './statements.js';
