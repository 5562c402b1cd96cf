/**
 * The undo as a SQL file a DBA can read, review and run: a header (source,
 * transactions, counts), the session settings the literals assume, and the
 * statements in one transaction. Written to a temporary name and renamed.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { SESSION_SETUP } from './literal.js';
import type { UndoPlan } from './plan.js';
import { writeChange } from './statements.js';

export interface ScriptHeader {
  /** The source server, as shown to people (never with a password). */
  readonly source: string;
  readonly title: string;
}

/** The undo script: every statement guarded, one transaction. */
export function undoScript(plan: UndoPlan, header: ScriptHeader): string {
  const lines = [
    `-- ${header.title}`,
    `-- source: ${header.source}`,
    `-- transactions: ${plan.transactions.map((t) => t.gtid).join(', ')}`,
    `-- statements: ${plan.statements.length}, rows: ${plan.rows}, conflicts: ${plan.conflicts.length}${plan.onConflict ? ` (${plan.onConflict})` : ''}`,
    '-- Each statement changes a row only while it still holds what the bad transaction left.',
    ...SESSION_SETUP.map((s) => `${s};`),
    'START TRANSACTION;',
    ...plan.statements.map((s) => s.sql),
    'COMMIT;',
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * The undo of the undo: the bad changes of the rows it touches, re-applied in
 * binlog order, each guarded by the image the undo leaves.
 */
export function redoScript(plan: UndoPlan, header: ScriptHeader): string {
  const statements = plan.chains
    .flatMap((chain) => chain.statements)
    .sort((a, b) => a.sequence - b.sequence)
    .map((s) => writeChange(s.table, s.change, 'guarded'))
    .filter((sql): sql is string => sql !== undefined);
  return `${[`-- ${header.title}`, `-- source: ${header.source}`, ...SESSION_SETUP.map((s) => `${s};`), 'START TRANSACTION;', ...statements, 'COMMIT;'].join('\n')}\n`;
}

/** Writes a file whole or not at all. */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, text, { flag: 'wx' });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
