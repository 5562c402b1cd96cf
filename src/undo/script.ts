/**
 * The undo as a SQL file a DBA can read, review and run: a header (source,
 * transactions, counts), the session settings the literals assume, and the
 * statements in one transaction. Written to a temporary name and renamed.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm, writeFile } from 'node:fs/promises';
import { compactGtids } from '../binlog/index.js';
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
  return `${[...undoScriptLines(plan, header)].join('\n')}\n`;
}

/** The undo script line by line (no newlines), for writing it out without building it whole. */
export function* undoScriptLines(plan: UndoPlan, header: ScriptHeader): Generator<string> {
  yield `-- ${header.title}`;
  yield `-- source: ${header.source}`;
  yield `-- transactions: ${compactGtids(plan.transactions.map((t) => t.gtid)).join(', ')}`;
  yield `-- statements: ${plan.statements.length}, rows: ${plan.rows}, row changes undone: ${plan.changes}, conflicts: ${plan.conflicts.length}${plan.onConflict ? ` (${plan.onConflict})` : ''}`;
  yield '-- Each row goes back in one statement to what it was before the first bad transaction changed it,';
  yield '-- and only while it still holds what the last one left.';
  for (const [table, reason] of plan.stepwise) {
    yield `-- ${table} is undone change by change, newest first (${reason}).`;
  }
  for (const setup of SESSION_SETUP) yield `${setup};`;
  yield 'START TRANSACTION;';
  for (const statement of plan.statements) yield statement.sql;
  yield 'COMMIT;';
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

/** Bytes handed to the file per write: few system calls, no copy of a whole script in memory. */
const WRITE_CHARS = 1 << 20;

/** Writes a file whole or not at all: text, or lines (each followed by a newline) written in large pieces. */
export async function writeFileAtomically(path: string, text: string | Iterable<string>): Promise<void> {
  const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    if (typeof text === 'string') {
      await writeFile(temporary, text, { flag: 'wx' });
    } else {
      const file = await open(temporary, 'wx');
      // One piece is written while the next is joined; it must finish before the file closes.
      let writing: Promise<unknown> = Promise.resolve();
      try {
        // Lines joined once per piece: one flat string to encode, not a tree of concatenations.
        let piece: string[] = [];
        let length = 0;
        for (const line of text) {
          piece.push(line, '\n');
          length += line.length + 1;
          if (length >= WRITE_CHARS) {
            const joined = piece.join('');
            await writing;
            writing = file.write(joined);
            piece = [];
            length = 0;
          }
        }
        await writing;
        await file.write(piece.join(''));
      } finally {
        await writing.catch(() => undefined);
        await file.close();
      }
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
