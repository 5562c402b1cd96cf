/**
 * Write activity over time from the binlog, with the bad transactions and
 * what came after them: the numbers behind the plan (what a point-in-time
 * restore would lose) and the report's timeline chart.
 */
import type { Transaction } from '../binlog/index.js';

/** Rows and transactions committed in one time bucket. */
export interface ActivityBucket {
  /** Bucket start, epoch seconds. */
  readonly t: number;
  readonly rows: number;
  readonly transactions: number;
}

/** A span of transactions: how many, rows they changed, seconds they cover, tables they wrote. */
export interface WriteSpan {
  readonly transactions: number;
  readonly rows: number;
  readonly seconds: number;
  readonly first_ts: number | null;
  readonly last_ts: number | null;
  readonly tables: readonly string[];
}

export interface Activity {
  readonly bucket_s: number;
  readonly buckets: readonly ActivityBucket[];
  /** The bad transactions as found in the binlog, in order. */
  readonly bad: readonly {
    readonly gtid: string;
    readonly ts: number;
    readonly rows: number;
    readonly tables: readonly string[];
  }[];
  /** Good transactions before the first bad one (in the binlog read). */
  readonly before: WriteSpan;
  /** Good transactions after the first bad one: what stopping before it loses. */
  readonly after: WriteSpan;
}

const MAX_BUCKETS = 60;

/** One pass over `transactions`; memory is bounded by the number of distinct seconds. */
export async function measureActivity(
  transactions: AsyncIterable<Transaction>,
  badGtids: readonly string[],
): Promise<Activity> {
  const wanted = new Set(badGtids);
  const perSecond = new Map<number, { rows: number; transactions: number }>();
  const bad: { gtid: string; ts: number; rows: number; tables: string[] }[] = [];
  const before = new SpanBuilder();
  const after = new SpanBuilder();
  for await (const tx of transactions) {
    if (!tx.complete) continue;
    const rows = rowsOf(tx);
    const second = Math.floor(tx.ts);
    const bucket = perSecond.get(second) ?? { rows: 0, transactions: 0 };
    bucket.rows += rows;
    bucket.transactions += 1;
    perSecond.set(second, bucket);
    if (tx.gtid !== undefined && wanted.has(tx.gtid)) {
      bad.push({ gtid: tx.gtid, ts: tx.ts, rows, tables: Object.keys(tx.rows) });
    } else if (rows > 0 || tx.statements.length > 0) {
      (bad.length > 0 ? after : before).add(tx, rows);
    }
  }
  return { ...bucketize(perSecond), bad, before: before.span(), after: after.span() };
}

function rowsOf(tx: Transaction): number {
  let rows = 0;
  for (const counts of Object.values(tx.rows)) rows += counts.insert + counts.update + counts.delete;
  return rows;
}

class SpanBuilder {
  private transactions = 0;
  private rows = 0;
  private first: number | null = null;
  private last: number | null = null;
  private readonly tables = new Set<string>();

  add(tx: Transaction, rows: number): void {
    this.transactions += 1;
    this.rows += rows;
    this.first ??= tx.ts;
    this.last = tx.ts;
    for (const table of Object.keys(tx.rows)) this.tables.add(table);
  }

  span(): WriteSpan {
    return {
      transactions: this.transactions,
      rows: this.rows,
      seconds: this.first === null || this.last === null ? 0 : round(this.last - this.first),
      first_ts: this.first,
      last_ts: this.last,
      tables: [...this.tables].sort(),
    };
  }
}

/** At most MAX_BUCKETS buckets of a whole number of seconds, empty ones included so the chart's x axis is time. */
function bucketize(perSecond: Map<number, { rows: number; transactions: number }>): {
  bucket_s: number;
  buckets: ActivityBucket[];
} {
  if (perSecond.size === 0) return { bucket_s: 1, buckets: [] };
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const second of perSecond.keys()) {
    first = Math.min(first, second);
    last = Math.max(last, second);
  }
  const size = Math.max(1, Math.ceil((last - first + 1) / MAX_BUCKETS));
  const buckets: { t: number; rows: number; transactions: number }[] = [];
  for (let t = first; t <= last; t += size) buckets.push({ t, rows: 0, transactions: 0 });
  for (const [second, counts] of perSecond) {
    const bucket = buckets[Math.floor((second - first) / size)]!;
    bucket.rows += counts.rows;
    bucket.transactions += counts.transactions;
  }
  return { bucket_s: size, buckets };
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
