/**
 * Applying an undo on a server: one transaction. The current image of every
 * row it touches is saved first (so the undo can itself be undone); every
 * statement must change exactly its row; afterwards every touched row must
 * equal its before-image, else everything is rolled back.
 */
import type { RowImage } from '../binlog/index.js';
import { SalvageError } from '../errors.js';
import { type ColumnFacts, keyObject, type TableFacts } from '../impact/index.js';
import { type Connection, type QueryOutcome, QueryPipeline } from '../mysql/index.js';
import { lookupEach } from './batch.js';
import { indexesByTable, keyIn, keyTerm, type RowCheck, rowsHold } from './guard.js';
import { quotedName, SESSION_SETUP } from './literal.js';
import { currentRow, type UndoPlan } from './plan.js';
import { redoScript, type ScriptHeader, writeFileAtomically } from './script.js';
import { keyCondition, type UndoStatement } from './statements.js';

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
    await runGuarded(conn, plan.statements);
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
  const touched: { table: TableFacts; identity: RowImage }[] = [];
  for (const chain of plan.chains) {
    const first = chain.statements[0];
    const identity = first?.expect ?? first?.restore;
    if (first !== undefined && identity !== undefined) touched.push({ table: first.table, identity });
  }
  await lockRows(conn, touched);
  // t.* differs from table to table: the lookups of one UNION must be of one table.
  const found = new Map<number, Record<string, unknown> | undefined>();
  for (const [table, indexes] of indexesByTable(touched)) {
    const rows = await lookupEach(
      conn,
      indexes.map((index) => ({
        what: 't.*',
        from: `${quotedName(table)} t WHERE ${keyCondition(table, (touched[index] as (typeof touched)[number]).identity)} LIMIT 1`,
      })),
    );
    for (const [n, index] of indexes.entries()) found.set(index, rows[n]?.[0]);
  }
  const rows = touched.map(({ table, identity }, index) => {
    const current = found.get(index);
    return {
      table: `${table.schema}.${table.table}`,
      key: keyObject(table, identity),
      current: current === undefined ? null : currentRow(current),
    };
  });
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

/** Statements in flight at once: the server runs one while the next ones are on their way. */
const IN_FLIGHT = 32;

/**
 * Runs the statements in order, several in flight, each required to change
 * exactly its row: the first that fails or changes another count stops the
 * undo (the caller rolls everything back).
 */
async function runGuarded(conn: Connection, statements: readonly UndoStatement[]): Promise<void> {
  const pipeline = new QueryPipeline(conn, IN_FLIGHT, 4 << 20);
  let failure: SalvageError | undefined;
  for (const statement of statements) {
    if (failure !== undefined) break;
    await pipeline.send(statement.sql, 1, (outcome) => {
      failure ??= statementFailure(statement, outcome);
    });
  }
  await pipeline.drain().catch((error: unknown) => {
    failure ??= new SalvageError('SERVER_ERROR', `the undo's statements failed: ${(error as Error).message}`);
  });
  if (failure !== undefined) throw failure;
}

/** Why a statement's outcome stops the undo; undefined when it changed exactly its row. */
function statementFailure(statement: UndoStatement, outcome: QueryOutcome): SalvageError | undefined {
  const table = `${statement.table.schema}.${statement.table.table}`;
  if (outcome.error !== undefined) {
    return new SalvageError(
      'UNDO_CONFLICT',
      `undo of ${statement.gtid} on ${table} failed: ${outcome.error.message}`,
      {
        context: { gtid: statement.gtid, table, statement: statement.sql },
      },
    );
  }
  // REPLACE over an existing row counts the delete and the insert.
  const rows = outcome.affectedRows;
  if (rows === 1 || (statement.sql.startsWith('REPLACE') && rows === 2)) return undefined;
  return new SalvageError(
    'UNDO_CONFLICT',
    `a row of ${table} changed while the undo ran (${rows} rows matched)`,
    { context: { gtid: statement.gtid, statement: statement.sql } },
  );
}

/**
 * Locks the rows (and, for keys no row holds now, the gaps where they
 * would go) before they are read: a few thousand keys per statement.
 */
async function lockRows(
  conn: Connection,
  rows: readonly { table: TableFacts; identity: RowImage }[],
): Promise<void> {
  for (const [table, indexes] of indexesByTable(rows)) {
    const images = indexes.map((index) => (rows[index] as (typeof rows)[number]).identity);
    if (table.address.kind === 'row') {
      for (const image of images) {
        await conn.query(
          `SELECT 1 FROM ${quotedName(table)} WHERE ${keyCondition(table, image)} LIMIT 1 FOR UPDATE`,
        );
      }
      continue;
    }
    const key = table.address.columns.map((i) => table.columns[i] as ColumnFacts);
    for (let at = 0; at < images.length; at += LOCK_KEYS) {
      const terms = images.slice(at, at + LOCK_KEYS).map((image) => keyTerm(table, key, image));
      await conn.query(`SELECT 1 FROM ${quotedName(table)} WHERE ${keyIn(key, terms)} FOR UPDATE`);
    }
  }
}

/** Keys locked per statement. */
const LOCK_KEYS = 2000;

/** Every touched row holds its before-image now (deleted rows are gone). */
async function verifyBeforeImages(conn: Connection, plan: UndoPlan): Promise<void> {
  const checks: RowCheck[] = [];
  for (const chain of plan.chains) {
    const last = chain.statements.at(-1);
    if (last === undefined) continue;
    // Without a key, a row that is gone cannot be told from its identical twins: only rows written back are checked.
    if (last.restore === undefined && last.table.address.kind === 'row') continue;
    const identity = (last.restore ?? last.expect) as RowImage;
    checks.push({ table: last.table, identity, holds: last.restore });
  }
  const holding = await rowsHold(conn, checks);
  const wrong: string[] = [];
  for (const [index, check] of checks.entries()) {
    if (holding[index]) continue;
    wrong.push(
      `${check.table.schema}.${check.table.table} ${JSON.stringify(keyObject(check.table, check.identity))}`,
    );
  }
  if (wrong.length > 0) {
    throw new SalvageError(
      'UNDO_VERIFY_FAILED',
      `${wrong.length} rows do not equal their before-image after the undo: ${wrong.slice(0, 5).join('; ')}`,
    );
  }
}
