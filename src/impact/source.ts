/**
 * What impact and undo read from a binlog: a stream of row changes and
 * statements, each tagged with its transaction's GTID, in binlog order. Rows
 * are streamed one by one, so a huge later transaction never sits in memory.
 */
import {
  type BinlogEvent,
  type BinlogInput,
  readBinlog,
  rowsOf,
  type TableMapDetails,
  TransactionAssembler,
} from '../binlog/index.js';
import type { ChangedRow } from './rows.js';

export type ChangeEvent =
  | {
      readonly kind: 'row';
      readonly gtid: string;
      readonly file: string;
      readonly position: number;
      readonly change: ChangedRow;
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

/**
 * The change stream of binlog files or a live server. Strict: an event salvage
 * cannot decode is refused rather than skipped (skipping would lose rows).
 */
export function openChangeSource(input: BinlogInput): ChangeSource {
  return changesOf(readBinlog(input, { strict: true }));
}

/** Row changes and non-transaction-control statements of a decoded event stream. */
export async function* changesOf(events: AsyncIterable<BinlogEvent>): AsyncGenerator<ChangeEvent> {
  const assembler = new TransactionAssembler(false);
  for await (const event of events) {
    // A DDL outside BEGIN...COMMIT closes its transaction when pushed: take its GTID first.
    const gtid = assembler.current?.gtid ?? '';
    assembler.push(event, 0);
    const where = { file: event.header.file, position: event.header.position };
    if (event.kind === 'rows') {
      const table = event.table as TableMapDetails;
      const rowGtid = assembler.current?.gtid ?? gtid;
      for (const row of rowsOf(event)) {
        const change: ChangedRow = { kind: event.op, table, before: row.before, after: row.after };
        yield { kind: 'row', gtid: rowGtid, ...where, change };
      }
    } else if (event.kind === 'query' && !/^\s*(BEGIN|COMMIT|ROLLBACK)\s*$/i.test(event.query)) {
      yield { kind: 'statement', gtid, ...where, schema: event.schema, text: event.query };
    }
  }
}
