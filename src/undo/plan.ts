/**
 * planUndo: the compensating statements for the bad transactions, each
 * checked against the live server. A row whose current value is no longer
 * what the bad changes left is a conflict, reported with the later
 * transactions that changed it and its current value.
 *
 * Each row gets one statement taking it from what the last bad change left
 * back to what it was before the first one: the same end state as undoing
 * every change newest first, in a fraction of the statements. Tables where
 * the order and count of statements matter (foreign keys, triggers, other
 * unique keys, no key, keys the bad changes moved) are undone change by
 * change instead, newest first.
 */
import {
  type BinlogInput,
  EventType,
  GtidMatcher,
  type RowImage,
  readFromTransactions,
  selectGtids,
  type TableMapDetails,
} from '../binlog/index.js';
import { SalvageError } from '../errors.js';
import {
  type BadTransaction,
  type ChangedRow,
  type ColumnFacts,
  identityColumns,
  keyObject,
  readChangesFrom,
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
import { exactLookup, isUnchanged, type RowCheck, rowsHold } from './guard.js';
import { decodeStored, type RowHistory, traceRowHistories } from './history.js';
import { keyMatch, quotedName, SESSION_SETUP } from './literal.js';
import { compensate, keyCondition, rowCondition, type UndoStatement } from './statements.js';

export type ConflictPolicy = 'skip' | 'abort' | 'force';

export interface UndoOptions {
  readonly gtids: readonly string[];
  /** Where the binlog is read: from the first bad transaction (or earlier) to the present. */
  readonly binlog: BinlogInput;
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
  /** The bad transactions as the caller named them; each one was found (the plan refuses otherwise). */
  readonly gtids: readonly string[];
  /** The same transactions in binlog order, where each was found. */
  readonly transactions: readonly BadTransaction[];
  /** The statements to run, in order (newest change first): conflicting rows only when forced. */
  readonly statements: readonly UndoStatement[];
  /** Rows the statements touch. */
  readonly rows: number;
  /** The bad row changes the statements undo (several per statement when one row changed several times). */
  readonly changes: number;
  readonly conflicts: readonly UndoConflict[];
  /** What happens to the conflicting rows. */
  readonly onConflict: ConflictPolicy | undefined;
  /** Every row's chain, conflicting or not (apply reads and verifies by it). */
  readonly chains: readonly RowUndo[];
  /** Tables undone change by change, and why. */
  readonly stepwise: ReadonlyMap<string, string>;
  readonly laterTransactions: number;
}

/** Row key (impact's rowKey) → later transactions that wrote the row. */
type LaterWrites = ReadonlyMap<string, readonly string[]>;

/**
 * Events the row histories never look at: statement text for people
 * (ANNOTATE_ROWS, ROWS_QUERY) and commits (the next GTID event starts the
 * next transaction). TABLE_MAPs only bind the rows events after them.
 */
const UNREAD: ReadonlySet<number> = new Set([EventType.ANNOTATE_ROWS, EventType.ROWS_QUERY, EventType.XID]);
const BINDING_ONLY: ReadonlySet<number> = new Set([EventType.TABLE_MAP]);

export async function planUndo(options: UndoOptions): Promise<UndoPlan> {
  // The guard compares TIMESTAMPs as the statements will: in UTC. Queued, not awaited: the server
  // runs them while the binlog's start is found, and every later query waits behind them.
  const setup = Promise.all(SESSION_SETUP.map((statement) => options.conn.query(statement)));
  setup.catch(() => undefined); // awaited after the pass; a pass that fails first reports its own error
  const facts = new Map<string, Promise<TableFacts>>();
  const tableFacts = (map: TableMapDetails | ChangedRow['table']): Promise<TableFacts> => {
    const key = `${map.database}.${map.table}:${map.columns.length}`;
    let found = facts.get(key);
    if (found === undefined) {
      found = readTableFacts(options.conn, map);
      facts.set(key, found);
    }
    return found;
  };
  const stepwiseReason = stepwiseReasons(options.conn);
  const wanted = new GtidMatcher(options.gtids);
  const history = await readFromTransactions(
    options.binlog,
    selectGtids(options.gtids, wanted),
    { strict: true, ignore: UNREAD, quiet: BINDING_ONLY },
    (events) =>
      traceRowHistories({
        gtids: options.gtids,
        wanted,
        events,
        tableFacts,
        stepwiseReason,
      }),
  );
  await setup;
  refuseSchemaChanges(history.transactions, history.schemaChanges);
  const later = new Map<string, readonly string[]>();
  const chains: RowUndo[] = [];
  const interleaved = new Set<RowUndo>();
  for (const row of history.rows) {
    const chain = rowChain(row, later);
    if (chain === undefined) continue;
    chains.push(chain);
    if (row.interleaved) interleaved.add(chain);
    if (chain.conflict !== undefined) await readCurrent(options.conn, chain.conflict, row);
  }
  if (history.stepwise.size > 0) {
    const tables = new Set(history.stepwise.keys());
    // A second pass only for a table that turned stepwise part way; its other tables' rows are only
    // counted there (their place in the order of all changes), not decoded.
    const trace =
      history.stepwiseChanges ??
      (await readChangesFrom(
        options.binlog,
        options.gtids,
        (source) => traceBadChanges({ gtids: options.gtids, source, tableFacts, tables }),
        { tables },
      ));
    refusePartialImages(trace);
    for (const [key, gtids] of trace.later) later.set(key, gtids);
    chains.push(...chainStatements(trace));
  }
  await Promise.all([checkChains(options.conn, chains, interleaved, later), writeStatements(chains)]);
  // Rows without a key cannot be told apart: N identical rows to undo need N identical rows now.
  await checkDuplicates(options.conn, chains, later);
  await checkUniqueClashes(options.conn, chains, later);
  const conflicted = chains.filter((c) => c.conflict !== undefined);
  // Forcing overwrites a row changed since; it never deletes another row that holds a unique value.
  const forced = new Set(
    options.onConflict === 'force' ? conflicted.filter((c) => c.conflict?.reason === 'changed') : [],
  );
  for (const chain of forced) forceFirst(chain);
  const applied = chains.filter(
    (c) => c.statements.length > 0 && (c.conflict === undefined || forced.has(c)),
  );
  const statements = newestFirst(applied);
  return {
    gtids: options.gtids,
    transactions: history.transactions,
    statements,
    rows: applied.length,
    changes: history.changes,
    conflicts: conflicted.map((c) => c.conflict as UndoConflict),
    onConflict: options.onConflict,
    chains: applied,
    stepwise: history.stepwise,
    laterTransactions: history.laterTransactions,
  };
}

/**
 * The chains' statements, the newest bad change first (ties in chain order).
 * Sorted as numbers, each sequence and its place packed in one double: a
 * sort calling a comparator takes 30–45 ms for an undo of 30,000 rows, this
 * a few.
 */
function newestFirst(chains: readonly RowUndo[]): UndoStatement[] {
  const all: UndoStatement[] = [];
  let highest = 0;
  for (let c = 0; c < chains.length; c++) {
    const statements = (chains[c] as RowUndo).statements;
    for (let s = 0; s < statements.length; s++) {
      const statement = statements[s] as UndoStatement;
      all.push(statement);
      if (statement.sequence > highest) highest = statement.sequence;
    }
  }
  const n = all.length;
  if ((highest + 1) * n > Number.MAX_SAFE_INTEGER) return all.sort((a, b) => b.sequence - a.sequence);
  // Larger key first; among equal sequences the earlier statement has the larger key.
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = (all[i] as UndoStatement).sequence * n + (n - 1 - i);
  keys.sort();
  const sorted: UndoStatement[] = new Array(n);
  for (let i = 0; i < n; i++) sorted[i] = all[n - 1 - ((keys[n - 1 - i] as number) % n)] as UndoStatement;
  return sorted;
}

/**
 * Why a table's changes must be undone one by one, newest first; undefined
 * when one statement per row gives the same result. Foreign keys and other
 * unique keys make the order of statements matter; triggers, their number.
 */
type StepwiseReason = (table: TableFacts) => Promise<string | undefined>;

function stepwiseReasons(conn: Connection): StepwiseReason {
  // Keys that point at a table can come from any schema: finding them scans every table's definition,
  // so that scan runs once for the whole plan, not once per table met (5 ms each on an idle server).
  // It starts at once, so the server runs it while the binlog's start is found.
  const referencing: Promise<Map<string, string>> = queryRows(
    conn,
    `SELECT UNIQUE_CONSTRAINT_SCHEMA AS db, REFERENCED_TABLE_NAME AS tbl, CONSTRAINT_NAME AS name
         FROM information_schema.REFERENTIAL_CONSTRAINTS`,
  ).then((rows) => {
    const names = new Map<string, string>();
    for (const row of rows) names.set(foldedName(String(row.db), String(row.tbl)), String(row.name));
    return names;
  });
  referencing.catch(() => undefined); // a failure is the first table's, when it asks
  const referencedBy = async (table: TableFacts): Promise<string | undefined> =>
    (await referencing).get(foldedName(table.schema, table.table));
  return async (table) => {
    if (table.uniqueKeys.length > 0) return 'it has unique keys besides the one its rows are found by';
    // The table's own keys and triggers: found from its name alone, in one round trip.
    const [own] = await queryRows(
      conn,
      `SELECT (SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS
                WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ? LIMIT 1) AS foreignKey,
              (SELECT TRIGGER_NAME FROM information_schema.TRIGGERS
                WHERE EVENT_OBJECT_SCHEMA = ? AND EVENT_OBJECT_TABLE = ? LIMIT 1) AS triggerName`,
      [table.schema, table.table, table.schema, table.table],
    );
    const key = own?.foreignKey ?? (await referencedBy(table));
    if (key !== undefined && key !== null) return `foreign key ${String(key)}`;
    if (own?.triggerName !== undefined && own.triggerName !== null)
      return `trigger ${String(own.triggerName)}`;
    return undefined;
  };
}

/** A table's name as information_schema compares it (case aside): a key of another case only costs a stepwise undo. */
function foldedName(schema: string, table: string): string {
  return `${schema}.${table}`.toLowerCase();
}

/**
 * One row's undo: from what the last bad change left back to what it was
 * before the first. Undefined when that is no change at all and nothing
 * else wrote the row in between.
 */
function rowChain(row: RowHistory, later: Map<string, readonly string[]>): RowUndo | undefined {
  const before = row.before === undefined ? undefined : decodeStored(row.before);
  const after = row.after === undefined ? undefined : decodeStored(row.after);
  const map = (row.after ?? row.before)?.map;
  const identity = before ?? after;
  if (map === undefined || identity === undefined) {
    // Inserted and deleted again by the bad transactions: nothing to undo, nothing to compare.
    return undefined;
  }
  if (row.later.length > 0) later.set(rowKey(row.table, identity), row.later);
  const kind = before === undefined ? 'insert' : after === undefined ? 'delete' : 'update';
  const change: ChangedRow = { kind, table: map, before, after };
  const statement = compensate({ gtid: row.lastGtid, sequence: row.lastSequence, table: row.table, change });
  if (statement !== undefined) return { statements: [statement] };
  if (!row.interleaved) return undefined;
  // Back where it started, but something else wrote it in between: that write is not undone blindly either.
  return {
    statements: [],
    conflict: {
      gtid: row.lastGtid,
      table: `${row.table.schema}.${row.table.table}`,
      key: keyObject(row.table, identity),
      reason: 'changed',
      current: null,
      later: row.later,
    },
  };
}

/** Groups the compensating statements by row (newest first); a key change links the old and new identity. */
function chainStatements(trace: Pick<Trace, 'changes'>): RowUndo[] {
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

/** What a row's newest statement requires of it: the bad after-image, or (undoing a delete) no row. */
function guardCheck(first: UndoStatement): RowCheck {
  const identity = (first.expect ?? first.restore) as RowImage;
  return { table: first.table, identity, holds: first.expect };
}

/**
 * Writes every statement's SQL a slice at a time, yielding in between: the
 * guard's queries go out and come back while the statements are written.
 */
async function writeStatements(chains: readonly RowUndo[]): Promise<void> {
  let written = 0;
  for (let c = 0; c < chains.length; c++) {
    const statements = (chains[c] as RowUndo).statements;
    for (let s = 0; s < statements.length; s++) {
      // Reading a statement's SQL bytes writes them (compensate defers it to the first read); its
      // text would be decoded from them again.
      if ((statements[s] as UndoStatement).sqlBytes.end === 0) continue;
      if (++written % 512 === 0) await new Promise((resume) => setImmediate(resume));
    }
  }
}

/** Fills in the current value of a conflicting row that has no statement to read it by. */
async function readCurrent(conn: Connection, conflict: UndoConflict, row: RowHistory): Promise<void> {
  const image = row.before ?? row.after;
  if (image === undefined) return;
  const [current] = await queryRows(
    conn,
    `SELECT * FROM ${quotedName(row.table)} WHERE ${keyCondition(row.table, decodeStored(image))} LIMIT 1`,
  );
  (conflict as { current: Record<string, unknown> | null }).current =
    current === undefined ? null : currentRow(current);
}

/**
 * Checks every keyed chain's row in batches; the few that are not what the
 * bad change left (and those another writer touched between two bad
 * changes) are read again one by one, for the report's current value.
 */
async function checkChains(
  conn: Connection,
  chains: readonly RowUndo[],
  interleaved: ReadonlySet<RowUndo>,
  later: LaterWrites,
): Promise<void> {
  const keyed = chains.filter(
    (c) => c.statements[0] !== undefined && c.statements[0].table.address.kind !== 'row',
  );
  const checks = keyed.map((c) => guardCheck(c.statements[0] as UndoStatement));
  const unchanged = await rowsHold(conn, checks);
  for (let index = 0; index < keyed.length; index++) {
    const chain = keyed[index] as RowUndo;
    const first = chain.statements[0] as UndoStatement;
    const check = checks[index] as RowCheck;
    if (unchanged[index] && !interleaved.has(chain)) continue;
    const lookup = exactLookup(check);
    const [row] = await queryRows(conn, `SELECT ${lookup.what}, t.* FROM ${lookup.from}`);
    if (isUnchanged(check, row) && !interleaved.has(chain)) continue;
    chain.conflict = conflictOf(
      first,
      first.table,
      check.identity,
      row === undefined ? null : currentRow(row),
      later,
    );
  }
}

async function checkDuplicates(conn: Connection, chains: RowUndo[], later: LaterWrites): Promise<void> {
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
      chain.conflict = conflictOf(first, first.table, first.expect as RowImage, null, later);
    }
  }
}

/**
 * A row written back (re-inserted, or its unique columns set back) must not
 * take unique-key values another row holds now, e.g. an email a later,
 * legitimate insert reused: that row is the conflict, found before anything
 * runs instead of failing the apply.
 */
async function checkUniqueClashes(
  conn: Connection,
  chains: readonly RowUndo[],
  later: LaterWrites,
): Promise<void> {
  if (!chains.some((c) => c.statements[0] !== undefined && c.statements[0].table.uniqueKeys.length > 0))
    return;
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
      ...conflictOf(statement, table, identity, currentRow(row), later),
      reason: 'unique-key',
    };
  }
}

function conflictOf(
  statement: UndoStatement,
  table: TableFacts,
  identity: NonNullable<UndoStatement['expect']>,
  current: Record<string, unknown> | null,
  writes: LaterWrites,
): UndoConflict {
  const later = new Set<string>();
  for (const key of statementKeys(statement)) for (const gtid of writes.get(key) ?? []) later.add(gtid);
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
function refuseSchemaChanges(
  transactions: readonly BadTransaction[],
  schemaChanges: readonly SchemaChange[],
): void {
  const lossy = schemaChanges.filter((s) => LOSSY.has(s.kind));
  const onlyDdl = transactions.filter((t) => t.rows === 0 && !schemaChanges.some((s) => s.gtid === t.gtid));
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
function refusePartialImages(trace: Pick<Trace, 'changes'>): void {
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
