/**
 * Undo: compensating SQL for bad transactions, from the binlog, exact for
 * every column type, guarded against rows changed since (conflicts).
 */
import type { ConnectTarget } from '../mysql/index.js';
import type { Rehearsal, RehearsalOptions } from './rehearse.js';
import type { SchemaLossOptions, SchemaLossRecovery } from './schema-loss.js';

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
export type { Rehearsal, RehearsalOptions } from './rehearse.js';
export type { SchemaLossOptions, SchemaLossRecovery, TableRecovery } from './schema-loss.js';
export { affectedTables, tableChecksums } from './table-checksums.js';

// The rehearsal and the schema-loss recovery bring in the restore, backup and
// sandbox modules: loaded when first used, so a plain undo starts without them.

/** Applies the undo to a clone of the source first; see rehearse.ts. */
export async function rehearseUndo(options: RehearsalOptions): Promise<Rehearsal> {
  return (await import('./rehearse.js')).rehearseUndo(options);
}

/** Brings back what schema changes lost, from a backup; see schema-loss.ts. */
export async function recoverSchemaLoss(options: SchemaLossOptions): Promise<SchemaLossRecovery> {
  return (await import('./schema-loss.js')).recoverSchemaLoss(options);
}

/** Runs a schema-loss copy-back script on the source. */
export async function applySchemaLossScript(source: ConnectTarget, script: string): Promise<void> {
  return (await import('./schema-loss.js')).applySchemaLossScript(source, script);
}

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
