/**
 * The query layer over transactions: keep those in a time window, touching
 * given tables, whose statements match a pattern, or with given GTIDs.
 */
import type { Transaction } from '../binlog/index.js';

export interface TimelineFilter {
  /** Epoch seconds; transactions at or after. */
  readonly since?: number;
  /** Epoch seconds; transactions at or before. */
  readonly until?: number;
  /** `db.table` names (`db.*` for a whole database); a transaction matches when it changed rows in one. */
  readonly tables?: readonly string[];
  /** Matched against each statement text. */
  readonly grep?: RegExp;
  readonly gtids?: readonly string[];
}

/** Whether one transaction passes every given condition. */
export function matchesTransaction(tx: Transaction, filter: TimelineFilter): boolean {
  if (filter.since !== undefined && tx.ts < filter.since) return false;
  if (filter.until !== undefined && tx.ts > filter.until) return false;
  if (filter.gtids && filter.gtids.length > 0 && (tx.gtid === undefined || !filter.gtids.includes(tx.gtid))) {
    return false;
  }
  if (filter.tables && filter.tables.length > 0) {
    const touched = Object.keys(tx.rows);
    const hit = filter.tables.some((wanted) =>
      wanted.endsWith('.*')
        ? touched.some((t) => t.startsWith(wanted.slice(0, -1)))
        : touched.includes(wanted),
    );
    if (!hit) return false;
  }
  if (filter.grep) {
    const re = filter.grep;
    if (!tx.statements.some((s) => re.test(s))) return false;
  }
  return true;
}

/** The transactions of a stream that pass the filter, in binlog order. */
export async function* queryTimeline(
  transactions: AsyncIterable<Transaction>,
  filter: TimelineFilter,
): AsyncGenerator<Transaction> {
  for await (const tx of transactions) if (matchesTransaction(tx, filter)) yield tx;
}
