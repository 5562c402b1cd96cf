/**
 * `salvage impact`: what the bad transactions changed, which later
 * transactions changed the same rows (the conflict set), and the foreign-key
 * orphans present now.
 */
import type { Connection } from '../mysql/index.js';
import type { SchemaChange } from './ddl.js';
import { countOrphans, type ForeignKeyOrphans } from './orphans.js';
import { keyObject } from './rows.js';
import type { ChangeSource } from './source.js';
import { summarizeChanges, type TableImpact } from './summary.js';
import { readTableFacts } from './tables.js';
import { type BadChange, type BadTransaction, changeKeys, type Trace, traceBadChanges } from './trace.js';

export interface ImpactOptions {
  /** The transactions of interest (the bad change). */
  readonly gtids: readonly string[];
  /** The binlog from (at least) the first of them to the present. */
  readonly source: ChangeSource;
  /** The live server: its schema addresses rows, its data shows orphans. */
  readonly conn: Connection;
}

/** A row the bad change touched that later transactions changed again. */
export interface LaterWrite {
  /** The last bad transaction that changed the row. */
  readonly gtid: string;
  readonly table: string;
  readonly key: Record<string, unknown>;
  /** The later transactions that changed it, in binlog order. */
  readonly later: readonly string[];
}

export interface ImpactReport {
  readonly transactions: readonly BadTransaction[];
  readonly tables: readonly TableImpact[];
  readonly laterWrites: readonly LaterWrite[];
  readonly laterTransactions: number;
  readonly schemaChanges: readonly SchemaChange[];
  readonly orphans: readonly ForeignKeyOrphans[];
}

export async function measureImpact(options: ImpactOptions): Promise<ImpactReport> {
  const trace = await traceBadChanges({
    gtids: options.gtids,
    source: options.source,
    tableFacts: (map) => readTableFacts(options.conn, map),
  });
  const tables = summarizeChanges(trace.changes);
  const names = [
    ...new Set([...tables.map((t) => t.table), ...trace.schemaChanges.flatMap((s) => s.tables)]),
  ];
  return {
    transactions: trace.transactions,
    tables,
    laterWrites: laterWrites(trace),
    laterTransactions: trace.laterTransactions,
    schemaChanges: trace.schemaChanges,
    orphans: await countOrphans(options.conn, names),
  };
}

/** One entry per row (its last bad change) that a later transaction changed. */
export function laterWrites(trace: Trace): LaterWrite[] {
  const byKey = new Map<string, LaterWrite>();
  for (const bad of trace.changes) {
    for (const key of changeKeys(bad.table, bad.change)) {
      const later = trace.later.get(key);
      if (later === undefined) continue;
      byKey.delete(key);
      byKey.set(key, describe(bad, later));
    }
  }
  return [...byKey.values()];
}

function describe(bad: BadChange, later: readonly string[]): LaterWrite {
  const image = bad.change.after ?? bad.change.before ?? [];
  return {
    gtid: bad.gtid,
    table: `${bad.table.schema}.${bad.table.table}`,
    key: keyObject(bad.table, image),
    later,
  };
}
