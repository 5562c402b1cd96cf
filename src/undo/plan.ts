/**
 * planUndo: the compensating statements for the bad transactions, newest
 * first, each checked against the live server. A row whose current value is
 * no longer the bad change's after-image is a conflict, reported with the
 * later transactions that changed it and its current value.
 */
import type { RowImage } from '../binlog/index.js';
import { SalvageError } from '../errors.js';
import {
  type BadTransaction,
  type ChangeSource,
  type ColumnFacts,
  identityColumns,
  keyObject,
  readTableFacts,
  rowKey,
  type SchemaChange,
  sameValue,
  type TableFacts,
  type Trace,
  traceBadChanges,
} from '../impact/index.js';
import { type Connection, queryRows } from '../mysql/index.js';
import { type Lookup, lookupEach } from './batch.js';
import { keyMatch, quotedName } from './literal.js';
import { compensate, keyCondition, rowCondition, type UndoStatement } from './statements.js';

export type ConflictPolicy = 'skip' | 'abort' | 'force';

export interface UndoOptions {
  readonly gtids: readonly string[];
  /** The binlog from the first bad transaction (or earlier) to the present. */
  readonly source: ChangeSource;
  /** The live source server: its schema and current rows. */
  readonly conn: Connection;
  /** What to do with conflicting rows; undefined: report them and plan nothing for them either. */
  readonly onConflict?: ConflictPolicy;
}

/** A row the undo must not blindly change: it is not what the bad change left any more. */
export interface UndoConflict {
  readonly gtid: string;
  readonly table: string;
  readonly key: Record<string, unknown>;
  /**
   * Why the row cannot be undone blindly: it changed since, or writing it
   * back would clash on a unique key with another row (`current` is that row).
   */
  readonly reason: 'changed' | 'unique-key';
  /** The row as it is now; null when it no longer exists (or, without a key, cannot be singled out). */
  readonly current: Record<string, unknown> | null;
  /** Later transactions (from the binlog) that changed it. */
  readonly later: readonly string[];
}

/** The statements that touch one row, newest first: a row's chain of undo steps. */
export interface RowUndo {
  readonly statements: UndoStatement[];
  conflict?: UndoConflict;
}

export interface UndoPlan {
  readonly transactions: readonly BadTransaction[];
  /** The statements to run, in order (newest change first): conflicting rows only when forced. */
  readonly statements: readonly UndoStatement[];
  /** Rows the statements touch. */
  readonly rows: number;
  readonly conflicts: readonly UndoConflict[];
  /** What happens to the conflicting rows. */
  readonly onConflict: ConflictPolicy | undefined;
  /** Every row's chain, conflicting or not (apply reads and verifies by it). */
  readonly chains: readonly RowUndo[];
  readonly laterTransactions: number;
}

export async function planUndo(options: UndoOptions): Promise<UndoPlan> {
  const trace = await traceBadChanges({
    gtids: options.gtids,
    source: options.source,
    tableFacts: (map) => readTableFacts(options.conn, map),
  });
  refuseSchemaChanges(trace);
  refusePartialImages(trace);
  const chains = chainStatements(trace);
  await checkChains(options.conn, chains, trace);
  // Rows without a key cannot be told apart: N identical rows to undo need N identical rows now.
  await checkDuplicates(options.conn, chains, trace);
  await checkUniqueClashes(options.conn, chains, trace);
  const conflicted = chains.filter((c) => c.conflict !== undefined);
  // Forcing overwrites a row changed since; it never deletes another row that holds a unique value.
  const forced = new Set(
    options.onConflict === 'force' ? conflicted.filter((c) => c.conflict?.reason === 'changed') : [],
  );
  for (const chain of forced) forceFirst(chain);
  const applied = chains.filter((c) => c.conflict === undefined || forced.has(c));
  const statements = applied.flatMap((c) => c.statements).sort((a, b) => b.sequence - a.sequence);
  return {
    transactions: trace.transactions,
    statements,
    rows: applied.length,
    conflicts: conflicted.map((c) => c.conflict as UndoConflict),
    onConflict: options.onConflict,
    chains: applied,
    laterTransactions: trace.laterTransactions,
  };
}

/** Groups the compensating statements by row (newest first); a key change links the old and new identity. */
function chainStatements(trace: Trace): RowUndo[] {
  const byKey = new Map<string, RowUndo>();
  const chains: RowUndo[] = [];
  for (let i = trace.changes.length - 1; i >= 0; i--) {
    const bad = trace.changes[i];
    if (bad === undefined) continue;
    const statement = compensate(bad);
    if (statement === undefined) continue;
    const keys = statementKeys(statement);
    let chain = keys.map((k) => byKey.get(k)).find((c) => c !== undefined);
    // Duplicate rows of a keyless table share a key but are separate rows: one chain per statement.
    if (chain === undefined || (statement.table.address.kind === 'row' && statement.kind !== 'insert')) {
      chain = { statements: [] };
      chains.push(chain);
    }
    chain.statements.push(statement);
    for (const key of keys) byKey.set(key, chain);
  }
  return chains;
}

function statementKeys(statement: UndoStatement): string[] {
  const keys: string[] = [];
  if (statement.expect) keys.push(rowKey(statement.table, statement.expect));
  if (statement.restore) keys.push(rowKey(statement.table, statement.restore));
  return keys;
}

/**
 * Checks every keyed chain's row in batches; the few that are not what the
 * bad change left are read again one by one, for the report's current value.
 */
async function checkChains(conn: Connection, chains: readonly RowUndo[], trace: Trace): Promise<void> {
  const keyed = chains.filter(
    (c) => c.statements[0] !== undefined && c.statements[0].table.address.kind !== 'row',
  );
  const found = await lookupEach(
    conn,
    keyed.map((c) => guardLookup(c.statements[0] as UndoStatement)),
  );
  for (const [index, chain] of keyed.entries()) {
    if (!isUnchanged(chain.statements[0] as UndoStatement, found[index]?.[0]))
      await checkChain(conn, chain, trace);
  }
}

/** Reads the row the chain's first statement expects; marks a conflict when it is not the after-image. */
async function checkChain(conn: Connection, chain: RowUndo, trace: Trace): Promise<void> {
  const first = chain.statements[0];
  if (first === undefined || first.table.address.kind === 'row') return;
  const lookup = guardLookup(first);
  const [row] = await queryRows(conn, `SELECT ${lookup.what}, t.* FROM ${lookup.from}`);
  if (isUnchanged(first, row)) return;
  const identity = (first.expect ?? first.restore) as NonNullable<UndoStatement['expect']>;
  chain.conflict = conflictOf(
    first,
    first.table,
    identity,
    row === undefined ? null : currentRow(row),
    trace,
  );
}

/** The row a keyed statement addresses, and whether it holds exactly the bad after-image. */
function guardLookup(first: UndoStatement): Lookup {
  const table = first.table;
  const identity = (first.expect ?? first.restore) as NonNullable<UndoStatement['expect']>;
  const guard = first.expect ? rowCondition(table, first.expect, 'guarded') : 'FALSE';
  return {
    what: `(${guard}) AS salvage_unchanged`,
    from: `${quotedName(table)} t WHERE ${keyCondition(table, identity)} LIMIT 1`,
  };
}

/** Unchanged: the row holds the after-image, or (undoing a delete) there is no row. */
function isUnchanged(first: UndoStatement, row: Record<string, unknown> | undefined): boolean {
  return first.expect ? row !== undefined && Number(row.salvage_unchanged) === 1 : row === undefined;
}

async function checkDuplicates(conn: Connection, chains: RowUndo[], trace: Trace): Promise<void> {
  const groups = new Map<string, RowUndo[]>();
  for (const chain of chains) {
    const first = chain.statements[0];
    if (first?.expect === undefined || first.table.address.kind !== 'row') continue;
    const key = rowKey(first.table, first.expect);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [chain]);
    else group.push(chain);
  }
  const firsts = [...groups.values()].map((group) => group[0]?.statements[0] as UndoStatement);
  const counts = await lookupEach(
    conn,
    firsts.map((first) => ({
      what: 'COUNT(*) AS n',
      from: `${quotedName(first.table)} WHERE ${rowCondition(first.table, first.expect as RowImage, 'guarded')}`,
    })),
  );
  for (const [index, group] of [...groups.values()].entries()) {
    const first = firsts[index] as UndoStatement;
    const present = Number(counts[index]?.[0]?.n ?? 0);
    // The rows beyond those still present are the conflicting ones (which duplicate is moot: they are identical).
    for (const chain of group.slice(present)) {
      chain.conflict = conflictOf(first, first.table, first.expect as RowImage, null, trace);
    }
  }
}

/**
 * A row written back (re-inserted, or its unique columns set back) must not
 * take unique-key values another row holds now, e.g. an email a later,
 * legitimate insert reused: that row is the conflict, found before anything
 * runs instead of failing the apply.
 */
async function checkUniqueClashes(conn: Connection, chains: readonly RowUndo[], trace: Trace): Promise<void> {
  const touched = new Set<string>();
  for (const chain of chains) {
    for (const s of chain.statements) {
      for (const image of [s.expect, s.restore])
        if (image) touched.add(JSON.stringify(keyObject(s.table, image)));
    }
  }
  const checks: { chain: RowUndo; statement: UndoStatement; lookup: Lookup }[] = [];
  for (const chain of chains) {
    if (chain.conflict !== undefined) continue;
    for (const statement of chain.statements) {
      const restore = statement.restore;
      const table = statement.table;
      if (restore === undefined || table.address.kind === 'row') continue;
      for (const key of table.uniqueKeys) {
        // NULLs never clash; an update that leaves the key as it is keeps its own values.
        if (key.some((i) => restore[i] === null || restore[i] === undefined)) continue;
        if (statement.expect && key.every((i) => sameValue(statement.expect?.[i], restore[i]))) continue;
        const where = key
          .map((i) => keyMatch(table, table.columns[i] as ColumnFacts, restore[i]))
          .join(' AND ');
        checks.push({
          chain,
          statement,
          lookup: { what: 't.*', from: `${quotedName(table)} t WHERE ${where} LIMIT 1` },
        });
      }
    }
  }
  const found = await lookupEach(
    conn,
    checks.map((c) => c.lookup),
  );
  for (const [index, { chain, statement }] of checks.entries()) {
    const row = found[index]?.[0];
    if (row === undefined || chain.conflict !== undefined) continue;
    const table = statement.table;
    const holder: Record<string, unknown> = {};
    for (const i of identityColumns(table)) {
      const column = table.columns[i] as ColumnFacts;
      holder[column.name] = row[column.name];
    }
    // A row the undo moves itself is not in the way (best effort: values as the driver returns them).
    if (touched.has(JSON.stringify(holder))) continue;
    const identity = (statement.restore ?? statement.expect) as RowImage;
    chain.conflict = {
      ...conflictOf(statement, table, identity, currentRow(row), trace),
      reason: 'unique-key',
    };
  }
}

function conflictOf(
  statement: UndoStatement,
  table: TableFacts,
  identity: NonNullable<UndoStatement['expect']>,
  current: Record<string, unknown> | null,
  trace: Trace,
): UndoConflict {
  const later = new Set<string>();
  for (const key of statementKeys(statement)) for (const gtid of trace.later.get(key) ?? []) later.add(gtid);
  return {
    gtid: statement.gtid,
    table: `${table.schema}.${table.table}`,
    key: keyObject(table, identity),
    reason: 'changed',
    current,
    later: [...later],
  };
}

/** A conflicting row, forced: its newest step finds the row by key only and overwrites it. */
function forceFirst(chain: RowUndo): void {
  const first = chain.statements[0];
  if (first === undefined) return;
  const forced = compensate(
    { gtid: first.gtid, sequence: first.sequence, table: first.table, change: first.change },
    'forced',
  );
  if (forced) chain.statements[0] = forced;
}

/** A row as JSON can carry it: bytes as 0x-hex. */
export function currentRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(row)) {
    if (name === 'salvage_unchanged') continue;
    out[name] = Buffer.isBuffer(value) ? `0x${value.toString('hex')}` : value;
  }
  return out;
}

const LOSSY: ReadonlySet<SchemaChange['kind']> = new Set([
  'drop-table',
  'truncate',
  'drop-column',
  'alter-column',
  'drop-database',
]);

/**
 * Schema changes have no before-image in the binlog: refuse, and say how to
 * get the data back (restore the tables as they were just before, copy back).
 */
function refuseSchemaChanges(trace: Trace): void {
  const lossy = trace.schemaChanges.filter((s) => LOSSY.has(s.kind));
  const onlyDdl = trace.transactions.filter(
    (t) => t.rows === 0 && !trace.schemaChanges.some((s) => s.gtid === t.gtid),
  );
  if (onlyDdl.length > 0) {
    throw new SalvageError(
      'UNDO_NOT_EXACT',
      `transaction ${onlyDdl[0]?.gtid} changed no rows the binlog records`,
      {
        hint: 'It may be statement-based or touch no rows: nothing can be undone from the binlog. Check it with `salvage binlog rows --gtid`.',
        context: { gtid: onlyDdl[0]?.gtid },
      },
    );
  }
  if (lossy.length === 0) return;
  throw new SalvageError('UNDO_DDL', describeRestorePlan(lossy).join('\n'), {
    context: { gtid: lossy[0]?.gtid, tables: lossy.flatMap((s) => s.tables) },
  });
}

/** binlog_row_image MINIMAL/NOBLOB leaves columns out of the images: their old values are unknown. */
function refusePartialImages(trace: Trace): void {
  for (const bad of trace.changes) {
    const missing = new Set<string>();
    for (const image of [bad.change.before, bad.change.after]) {
      if (image === undefined) continue;
      for (const column of bad.table.columns) if (image[column.index] === undefined) missing.add(column.name);
    }
    if (missing.size === 0) continue;
    const table = `${bad.table.schema}.${bad.table.table}`;
    throw new SalvageError(
      'UNDO_NOT_EXACT',
      `the binlog row images of ${table} lack columns ${[...missing].join(', ')} (transaction ${bad.gtid})`,
      {
        hint: 'The server logged partial row images (binlog_row_image MINIMAL or NOBLOB): the old values are unknown. Restore the table from a backup instead, and set binlog_row_image=FULL.',
        context: { gtid: bad.gtid, table, columns: [...missing] },
      },
    );
  }
}

/** The plan for schema changes: what was lost, and how to get it back from a backup. */
export function describeRestorePlan(changes: readonly SchemaChange[]): string[] {
  const lines = ['The bad change contains schema changes the binlog cannot undo (it holds no before-image):'];
  for (const change of changes) {
    lines.push(`  ${change.gtid}: ${change.statement.slice(0, 200)}`);
    lines.push(`    lost: ${change.loss} (${change.tables.join(', ') || 'tables unknown'})`);
  }
  const tables = [...new Set(changes.flatMap((c) => c.tables))];
  const first = changes[0]?.gtid ?? '?';
  lines.push('Plan:');
  lines.push(`  1. salvage restore --repo URL --tables ${tables.join(',')} --before ${first} --into sandbox`);
  lines.push('     (a backup taken before the change, replayed up to just before it)');
  lines.push(
    '  2. compare the restored tables with `salvage verify`, then copy the lost tables/columns back',
  );
  lines.push('     into the source.');
  lines.push(
    `  Both steps at once: add --repo URL to this undo; it writes the copy-back SQL for review, and --apply --yes runs it.`,
  );
  lines.push(
    '  Without a backup that predates the change, the lost data cannot be recovered from the binlog:',
  );
  lines.push('  only rows written after it can be, by replaying later transactions.');
  return lines;
}
