/**
 * One pass over the binlog from the first bad transaction on: the bad
 * transactions' row changes are collected (memory bounded by the size of the
 * bad change itself), every later transaction is streamed and only the keys
 * of rows it touches are compared with the bad rows' keys. A later write to a
 * row the bad change touched is what makes undoing that row a conflict.
 */
import type { TableMap } from '../binlog/types.js';
import { SalvageError } from '../errors.js';
import { classifyStatement, type SchemaChange } from './ddl.js';
import { type ChangedRow, rowKey } from './rows.js';
import type { ChangeSource } from './source.js';
import type { TableFacts } from './tables.js';

/** One row change of a bad transaction, with the table facts it is written with. */
export interface BadChange {
  readonly gtid: string;
  /** Position among all bad changes, in binlog order. */
  readonly sequence: number;
  readonly table: TableFacts;
  readonly change: ChangedRow;
}

export interface BadTransaction {
  readonly gtid: string;
  readonly file: string;
  readonly position: number;
  readonly rows: number;
}

export interface Trace {
  readonly transactions: readonly BadTransaction[];
  /** Every row change of the bad transactions, in binlog order. */
  readonly changes: readonly BadChange[];
  readonly schemaChanges: readonly SchemaChange[];
  /** Row key → GTIDs of later transactions (not among the bad ones) that changed that row, in order. */
  readonly later: ReadonlyMap<string, readonly string[]>;
  /** Transactions read after the first bad one. */
  readonly laterTransactions: number;
}

export interface TraceOptions {
  readonly gtids: readonly string[];
  readonly source: ChangeSource;
  /** The facts of a table (live schema joined with the TABLE_MAP); called once per table. */
  readonly tableFacts: (map: TableMap) => Promise<TableFacts>;
  /**
   * Only the row changes of these tables (`db.table`) are collected; the
   * others still count in every change's `sequence`. Default: all.
   */
  readonly tables?: ReadonlySet<string>;
}

/**
 * The bad row changes of some tables and the later writes to the same rows,
 * told one row change at a time in binlog order (traceBadChanges, and the
 * undo's own pass over the binlog).
 */
export interface ChangeCollector {
  /** A row change of a bad transaction; `sequence` is its place among all of them. */
  bad(gtid: string, sequence: number, table: TableFacts, change: ChangedRow): void;
  /** A row change of a later transaction: noted on the rows a bad change touched. */
  later(gtid: string, table: TableFacts, change: ChangedRow): void;
  /** The changes in binlog order, and the rows later transactions wrote (only those). */
  result(): Pick<Trace, 'changes' | 'later'>;
}

export function changeCollector(): ChangeCollector {
  const changes: BadChange[] = [];
  const later = new Map<string, string[]>();
  return {
    bad(gtid, sequence, table, change) {
      changes.push({ gtid, sequence, table, change });
      for (const key of changeKeys(table, change)) if (!later.has(key)) later.set(key, []);
    },
    later(gtid, table, change) {
      for (const key of changeKeys(table, change)) {
        const gtids = later.get(key);
        if (gtids !== undefined && gtids.at(-1) !== gtid) gtids.push(gtid);
      }
    },
    result() {
      for (const [key, gtids] of later) if (gtids.length === 0) later.delete(key);
      return { changes, later };
    },
  };
}

/** Reads the bad transactions and the later writes to the same rows; GTID_NOT_FOUND when one is missing. */
export async function traceBadChanges(options: TraceOptions): Promise<Trace> {
  const wanted = new Set(options.gtids);
  const transactions = new Map<string, { gtid: string; file: string; position: number; rows: number }>();
  const collected = changeCollector();
  const schemaChanges: SchemaChange[] = [];
  const facts = new Map<string, TableFacts>();
  let laterTransactions = 0;
  let lastLater = '';
  let sequences = 0;

  for await (const event of options.source) {
    if (wanted.has(event.gtid)) {
      let transaction = transactions.get(event.gtid);
      if (transaction === undefined) {
        transaction = { gtid: event.gtid, file: event.file, position: event.position, rows: 0 };
        transactions.set(event.gtid, transaction);
      }
      if (event.kind === 'statement') {
        const found = classifyStatement(event.gtid, event.schema, event.text);
        if (found) schemaChanges.push(found);
        continue;
      }
      if (event.kind === 'rows-elsewhere') {
        sequences += event.rows;
        transaction.rows += event.rows;
        continue;
      }
      const change = event.change;
      const name = `${change.table.database}.${change.table.table}`;
      const sequence = sequences++;
      transaction.rows++;
      if (options.tables !== undefined && !options.tables.has(name)) continue;
      let table = facts.get(name);
      if (table === undefined) {
        table = await options.tableFacts(change.table);
        facts.set(name, table);
      }
      collected.bad(event.gtid, sequence, table, change);
      continue;
    }
    if (transactions.size === 0) continue;
    if (event.gtid !== lastLater) {
      laterTransactions++;
      lastLater = event.gtid;
    }
    if (event.kind !== 'row') continue;
    const change = event.change;
    const table = facts.get(`${change.table.database}.${change.table.table}`);
    if (table === undefined || table.columns.length !== change.table.columns.length) continue;
    collected.later(event.gtid, table, change);
  }
  refuseMissingTransactions(options.gtids, transactions);
  return {
    transactions: [...transactions.values()],
    ...collected.result(),
    schemaChanges,
    laterTransactions,
  };
}

/** GTID_NOT_FOUND naming the bad transactions the binlogs read do not hold. */
export function refuseMissingTransactions(
  gtids: readonly string[],
  found: { readonly has: (gtid: string, index: number) => boolean },
): void {
  const missing = gtids.filter((gtid, index) => !found.has(gtid, index));
  if (missing.length === 0) return;
  const named =
    missing.length > 20
      ? `${missing.slice(0, 20).join(', ')} and ${missing.length - 20} more`
      : missing.join(', ');
  throw new SalvageError(
    'GTID_NOT_FOUND',
    `transaction${missing.length > 1 ? 's' : ''} ${named} ${missing.length > 1 ? 'are' : 'is'} not in the binlogs read`,
    { context: { gtid: missing[0] } },
  );
}

/** The identities of the rows a change touches: before and after (a key update moves the row). */
export function changeKeys(table: TableFacts, change: ChangedRow): string[] {
  const keys: string[] = [];
  if (change.before) keys.push(rowKey(table, change.before));
  if (change.after) {
    const key = rowKey(table, change.after);
    if (keys[0] !== key) keys.push(key);
  }
  return keys;
}
