/**
 * What impact and undo read from a binlog: a stream of row changes and
 * statements, each tagged with its transaction's GTID, in binlog order. Rows
 * are streamed one rows event at a time, so a huge later transaction never
 * sits in memory.
 */

import {
  type BinlogEvent,
  type BinlogInput,
  countRowsOf,
  EventType,
  readBinlogBatches,
  readBinlogFrom,
  readFromTransactions,
  type TableMapDetails,
  TransactionAssembler,
} from '../binlog/index.js';
import { type ChangedRow, changedRowsOf } from './rows.js';

export type ChangeEvent =
  | {
      readonly kind: 'row';
      readonly gtid: string;
      readonly file: string;
      readonly position: number;
      readonly change: ChangedRow;
    }
  | {
      /** Rows of a table the reader did not ask for (ChangeSourceOptions.tables): counted, not decoded. */
      readonly kind: 'rows-elsewhere';
      readonly gtid: string;
      readonly file: string;
      readonly position: number;
      readonly rows: number;
    }
  | {
      readonly kind: 'statement';
      readonly gtid: string;
      readonly file: string;
      readonly position: number;
      /** The default database the statement ran in. */
      readonly schema: string;
      readonly text: string;
    };

/** Row changes and statements in binlog order; breaking out of the loop closes the binlog. */
export type ChangeSource = AsyncIterable<ChangeEvent>;

export interface ChangeSourceOptions {
  /**
   * The transactions of interest: the stream starts at the first of them and
   * nothing before it is decoded (from files, nothing before it is even
   * checked beyond its GTID). Without it, the stream starts at the beginning.
   */
  readonly startAt?: readonly string[];
}

/**
 * The change stream of binlog files or a live server. Strict: an event salvage
 * cannot decode is refused rather than skipped (skipping would lose rows).
 */
export function openChangeSource(input: BinlogInput, options: ChangeSourceOptions = {}): ChangeSource {
  const startAt = options.startAt === undefined ? undefined : new Set(options.startAt);
  if (startAt === undefined) return changesOfBatches(readBinlogBatches(input, { strict: true }), startAt);
  return changesOfBatches(readBinlogFrom(input, startAt, { strict: true, ignore: ANNOTATIONS }), startAt);
}

/**
 * `consume` of the change stream from the first of `gtids` on, its start
 * sought (readFromTransactions): `consume` must read the stream to its end,
 * have no effect but its result, and throw GTID_NOT_FOUND for a transaction
 * it did not see, and then runs once more over the stream read without
 * seeking. With `tables`, rows of other tables are counted, not decoded.
 */
export function readChangesFrom<T>(
  input: BinlogInput,
  gtids: readonly string[],
  consume: (source: ChangeSource) => Promise<T>,
  options: { readonly tables?: ReadonlySet<string> } = {},
): Promise<T> {
  const startAt = new Set(gtids);
  return readFromTransactions(input, startAt, { strict: true, ignore: ANNOTATIONS }, (events) =>
    consume(changesOfBatches(events, startAt, options.tables)),
  );
}

/** Row changes and non-transaction-control statements of a decoded event stream. */
export async function* changesOf(
  events: AsyncIterable<BinlogEvent>,
  startAt?: ReadonlySet<string>,
): AsyncGenerator<ChangeEvent> {
  const scan = changeScanner(startAt);
  const out: ChangeEvent[] = [];
  for await (const event of events) {
    scan(event, out);
    yield* out;
    out.length = 0;
  }
}

async function* changesOfBatches(
  batches: AsyncIterable<readonly BinlogEvent[]>,
  startAt: ReadonlySet<string> | undefined,
  tables?: ReadonlySet<string>,
): AsyncGenerator<ChangeEvent> {
  const scan = changeScanner(startAt, tables);
  const out: ChangeEvent[] = [];
  for await (const batch of batches) {
    for (const event of batch) {
      scan(event, out);
      // Rows go out per rows event: a big transaction is never held whole.
      if (out.length > 0) {
        yield* out;
        out.length = 0;
      }
    }
  }
}

/**
 * Appends each event's row changes and statements to `out`. Until a
 * transaction of `startAt` opens, only GTIDs are looked at: no row is decoded.
 */
function changeScanner(
  startAt: ReadonlySet<string> | undefined,
  tables?: ReadonlySet<string>,
): (event: BinlogEvent, out: ChangeEvent[]) => void {
  const assembler = new TransactionAssembler(false);
  let started = startAt === undefined;
  return (event, out) => {
    // A DDL outside BEGIN...COMMIT closes its transaction when pushed: take its GTID first.
    const gtid = assembler.current?.gtid ?? '';
    assembler.push(event, 0);
    if (!started) {
      const opened = assembler.current?.gtid ?? gtid;
      if (!startAt?.has(opened)) return;
      started = true;
    }
    const where = { file: event.header.file, position: event.header.position };
    if (event.kind === 'rows') {
      const table = event.table as TableMapDetails;
      const rowGtid = assembler.current?.gtid ?? gtid;
      if (tables !== undefined && !tables.has(`${table.database}.${table.table}`)) {
        out.push({ kind: 'rows-elsewhere', gtid: rowGtid, ...where, rows: countRowsOf(event) });
        return;
      }
      for (const change of changedRowsOf(event)) {
        out.push({ kind: 'row', gtid: rowGtid, ...where, change });
      }
    } else if (event.kind === 'query' && !/^\s*(BEGIN|COMMIT|ROLLBACK)\s*$/i.test(event.query)) {
      out.push({ kind: 'statement', gtid, ...where, schema: event.schema, text: event.query });
    }
  };
}

/** MariaDB's ANNOTATE_ROWS and MySQL's ROWS_QUERY: the statement behind row events, for people, never read here. */
const ANNOTATIONS: ReadonlySet<number> = new Set([EventType.ANNOTATE_ROWS, EventType.ROWS_QUERY]);
