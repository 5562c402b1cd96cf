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
import { type SqlBytes, sqlText } from './sql-text.js';
import { writeChange } from './statements.js';

export interface ScriptHeader {
  /** The source server, as shown to people (never with a password). */
  readonly source: string;
  readonly title: string;
}

/** The undo script: every statement guarded, one transaction. */
export function undoScript(plan: UndoPlan, header: ScriptHeader): string {
  const lines = [...undoScriptLines(plan, header)].map((line) =>
    typeof line === 'string' ? line : sqlText(line),
  );
  return `${lines.join('\n')}\n`;
}

/**
 * The undo script line by line (no newlines), for writing it out without
 * building it whole: the statements as the bytes they were written in.
 */
export function* undoScriptLines(plan: UndoPlan, header: ScriptHeader): Generator<string | SqlBytes> {
  yield `-- ${header.title}`;
  yield `-- source: ${header.source}`;
  yield `-- transactions: ${compactGtids(plan.gtids).join(', ')}`;
  yield `-- statements: ${plan.statements.length}, rows: ${plan.rows}, row changes undone: ${plan.changes}, conflicts: ${plan.conflicts.length}${plan.onConflict ? ` (${plan.onConflict})` : ''}`;
  yield '-- Each row goes back in one statement to what it was before the first bad transaction changed it,';
  yield '-- and only while it still holds what the last one left.';
  for (const [table, reason] of plan.stepwise) {
    yield `-- ${table} is undone change by change, newest first (${reason}).`;
  }
  for (const setup of SESSION_SETUP) yield `${setup};`;
  yield 'START TRANSACTION;';
  for (const statement of plan.statements) yield statement.sqlBytes;
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
const WRITE_BYTES = 1 << 20;
const NEWLINE = 0x0a;

/** Writes a file whole or not at all: text, or lines (each followed by a newline) written in large pieces. */
export async function writeFileAtomically(
  path: string,
  text: string | Iterable<string | SqlBytes>,
): Promise<void> {
  const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    if (typeof text === 'string') await writeFile(temporary, text, { flag: 'wx' });
    else await writeLines(temporary, text);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Lines copied into one buffer while the other is written (a piece must not
 * change until its write is done); a line larger than a piece is written on
 * its own.
 */
async function writeLines(path: string, lines: Iterable<string | SqlBytes>): Promise<void> {
  const file = await open(path, 'wx');
  let writing: Promise<unknown> = Promise.resolve();
  let piece = Buffer.allocUnsafe(WRITE_BYTES);
  let spare = Buffer.allocUnsafe(WRITE_BYTES);
  let used = 0;
  const flush = async (): Promise<void> => {
    await writing;
    writing = file.write(piece, 0, used);
    [piece, spare] = [spare, piece];
    used = 0;
  };
  try {
    for (const line of lines) {
      const bytes = typeof line === 'string' ? Buffer.byteLength(line, 'utf8') : line.end - line.start;
      if (used > 0 && used + bytes + 1 > piece.length) await flush();
      if (bytes + 1 > piece.length) {
        const whole =
          typeof line === 'string' ? Buffer.from(line, 'utf8') : line.slab.subarray(line.start, line.end);
        await writing;
        writing = file.write(Buffer.concat([whole, Buffer.from('\n')]));
        continue;
      }
      used +=
        typeof line === 'string'
          ? piece.write(line, used, 'utf8')
          : line.slab.copy(piece, used, line.start, line.end);
      piece[used++] = NEWLINE;
    }
    await flush();
    await writing;
  } finally {
    await writing.catch(() => undefined);
    await file.close();
  }
}
