/**
 * Applying an undo on a server: one transaction. The current image of every
 * row it touches is saved first (so the undo can itself be undone); every
 * statement must change exactly its row; afterwards every touched row must
 * equal its before-image, else everything is rolled back.
 */
import type { ResultSetHeader } from 'mysql2';
import { SalvageError } from '../errors.js';
import { keyObject } from '../impact/index.js';
import { type Connection, queryRows, quoteTableName } from '../mysql/index.js';
import { type Lookup, lookupEach } from './batch.js';
import { quotedName, SESSION_SETUP } from './literal.js';
import { currentRow, type UndoPlan } from './plan.js';
import { redoScript, type ScriptHeader, writeFileAtomically } from './script.js';
import { keyCondition, rowCondition, type UndoStatement } from './statements.js';

export interface ApplyOptions {
  /** Path prefix of the saved images: `<prefix>.before-undo.json` and `<prefix>.redo.sql`. */
  readonly savePrefix: string;
  readonly header: ScriptHeader;
}

export interface ApplyResult {
  readonly statements: number;
  readonly rows: number;
  /** The files holding the rows as they were before the undo. */
  readonly saved: readonly string[];
}

export async function applyUndo(
  conn: Connection,
  plan: UndoPlan,
  options: ApplyOptions,
): Promise<ApplyResult> {
  if (plan.conflicts.length > 0 && plan.onConflict !== 'skip' && plan.onConflict !== 'force') {
    throw new SalvageError(
      'UNDO_CONFLICT',
      `${plan.conflicts.length} rows changed since the bad transaction`,
    );
  }
  for (const setup of SESSION_SETUP) await conn.query(setup);
  await conn.query('START TRANSACTION');
  try {
    const saved = await saveCurrentImages(conn, plan, options);
    for (const statement of plan.statements) await runGuarded(conn, statement);
    await verifyBeforeImages(conn, plan);
    await conn.query('COMMIT');
    return { statements: plan.statements.length, rows: plan.rows, saved };
  } catch (error) {
    await conn.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Reads (and locks) every touched row as it is now, and writes it out before anything changes. */
async function saveCurrentImages(conn: Connection, plan: UndoPlan, options: ApplyOptions): Promise<string[]> {
  const rows: unknown[] = [];
  for (const chain of plan.chains) {
    const first = chain.statements[0];
    const identity = first?.expect ?? first?.restore;
    if (first === undefined || identity === undefined) continue;
    const table = first.table;
    const found = await queryRows(
      conn,
      `SELECT * FROM ${quoteTableName(table.schema, table.table)} WHERE ${keyCondition(table, identity)} LIMIT 1 FOR UPDATE`,
    );
    rows.push({
      table: `${table.schema}.${table.table}`,
      key: keyObject(table, identity),
      current: found[0] === undefined ? null : currentRow(found[0]),
    });
  }
  const json = `${options.savePrefix}.before-undo.json`;
  const redo = `${options.savePrefix}.redo.sql`;
  const document = {
    source: options.header.source,
    transactions: plan.transactions.map((t) => t.gtid),
    forced: plan.onConflict === 'force' ? plan.conflicts.length : 0,
    rows,
  };
  await writeFileAtomically(json, `${JSON.stringify(document, null, 2)}\n`);
  await writeFileAtomically(
    redo,
    redoScript(plan, { ...options.header, title: `${options.header.title} — redo` }),
  );
  return [json, redo];
}

async function runGuarded(conn: Connection, statement: UndoStatement): Promise<void> {
  let result: ResultSetHeader;
  try {
    [result] = await conn.query<ResultSetHeader>(statement.sql);
  } catch (error) {
    throw new SalvageError(
      'UNDO_CONFLICT',
      `undo of ${statement.gtid} on ${statement.table.schema}.${statement.table.table} failed: ${(error as Error).message}`,
      {
        context: {
          gtid: statement.gtid,
          table: `${statement.table.schema}.${statement.table.table}`,
          statement: statement.sql,
        },
      },
    );
  }
  // REPLACE over an existing row counts the delete and the insert.
  const ok = result.affectedRows === 1 || (statement.sql.startsWith('REPLACE') && result.affectedRows === 2);
  if (!ok) {
    throw new SalvageError(
      'UNDO_CONFLICT',
      `a row of ${statement.table.schema}.${statement.table.table} changed while the undo ran (${result.affectedRows} rows matched)`,
      { context: { gtid: statement.gtid, statement: statement.sql } },
    );
  }
}

/** Every touched row holds its before-image now (deleted rows are gone); counted a few hundred rows per query. */
async function verifyBeforeImages(conn: Connection, plan: UndoPlan): Promise<void> {
  const checks: { statement: UndoStatement; lookup: Lookup; ok: (n: number) => boolean }[] = [];
  for (const chain of plan.chains) {
    const last = chain.statements.at(-1);
    if (last === undefined) continue;
    const table = last.table;
    if (last.restore !== undefined) {
      const where = rowCondition(table, last.restore, 'guarded');
      checks.push({
        statement: last,
        lookup: { what: 'COUNT(*) AS n', from: `${quotedName(table)} WHERE ${where}` },
        ok: (n) => n >= 1,
      });
    } else if (table.address.kind !== 'row' && last.expect !== undefined) {
      const where = keyCondition(table, last.expect);
      checks.push({
        statement: last,
        lookup: { what: 'COUNT(*) AS n', from: `${quotedName(table)} WHERE ${where}` },
        ok: (n) => n === 0,
      });
    }
  }
  const counts = await lookupEach(
    conn,
    checks.map((c) => c.lookup),
  );
  const wrong: string[] = [];
  for (const [index, check] of checks.entries()) {
    if (check.ok(Number(counts[index]?.[0]?.n))) continue;
    const { table, restore, expect } = check.statement;
    wrong.push(`${table.schema}.${table.table} ${JSON.stringify(keyObject(table, restore ?? expect ?? []))}`);
  }
  if (wrong.length > 0) {
    throw new SalvageError(
      'UNDO_VERIFY_FAILED',
      `${wrong.length} rows do not equal their before-image after the undo: ${wrong.slice(0, 5).join('; ')}`,
    );
  }
}
