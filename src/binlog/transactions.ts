/**
 * Events grouped into transactions (event groups): GTID, where it starts and
 * ends, when it committed, who ran it, its statements and its row counts per
 * table. Streams: a transaction is yielded as soon as its commit is read and
 * keeps no row data.
 */
import type { ByteReader } from './byte-reader.js';
import type { BinlogEvent } from './events/index.js';
import type { QueryEvent } from './events/query.js';
import { rowsReader as imagesReader, type RowsEvent } from './events/rows-event.js';
import { countRows } from './row-count.js';
import { decodeRows, type RowImages } from './rows.js';
import type { RowImage, RowOperation, TableMapDetails } from './types.js';

export interface RowCounts {
  insert: number;
  update: number;
  delete: number;
}

export interface Transaction {
  /** MySQL `uuid:n` (or `uuid:tag:n`), MariaDB `domain-server-seq`; undefined without GTIDs. */
  readonly gtid: string | undefined;
  /** File of the first event. */
  readonly file: string;
  /** Offset of the first event (the GTID event, or BEGIN without GTIDs). */
  readonly start: number;
  /** Offset just past the commit event. */
  readonly end: number;
  /**
   * Commit time, epoch seconds with microseconds, when the binlog has it
   * (MySQL 8 GTID events: the original commit timestamp). Otherwise the
   * whole seconds of the first event's header, which is when the
   * transaction's first statement started, not when it committed.
   */
  readonly ts: number;
  readonly tsSource: 'commit' | 'statement-start';
  readonly serverId: number;
  readonly threadId: number | undefined;
  /** Statement text: QUERY events (without BEGIN/COMMIT), ROWS_QUERY, ANNOTATE_ROWS. */
  readonly statements: readonly string[];
  /** Per `db.table`, rows inserted, updated, deleted. */
  readonly rows: Readonly<Record<string, Readonly<RowCounts>>>;
  /** False when the stream ended before the commit (a file still being written). */
  readonly complete: boolean;
}

interface OpenTransaction {
  gtid: string | undefined;
  file: string;
  start: number;
  end: number;
  ts: number;
  tsSource: 'commit' | 'statement-start';
  serverId: number;
  threadId: number | undefined;
  statements: string[];
  rows: Record<string, RowCounts>;
  /** Inside BEGIN ... COMMIT (else a lone statement ends it). */
  begun: boolean;
}

/**
 * The transaction state machine. `push` takes events in order and returns a
 * transaction when one ends; `current` is the one in progress.
 */
export class TransactionAssembler {
  current: OpenTransaction | undefined;
  /** End offset of the last top-level event (the payload event for events inside a TRANSACTION_PAYLOAD). */
  private lastEnd = 0;

  /** `rowCount` is how many rows the event holds, when the caller knows (else counted here when `countRows`). */
  constructor(private readonly countRows: boolean) {}

  push(event: BinlogEvent, rowCount?: number): Transaction | undefined {
    const h = event.header;
    if (h.payloadOffset === undefined) this.lastEnd = h.position + h.length;
    switch (event.kind) {
      case 'gtid': {
        const previous = this.close(false);
        const commitMicros = event.originalCommitTimestamp ?? event.immediateCommitTimestamp;
        this.current = this.open(event, event.gtid);
        if (commitMicros !== undefined && commitMicros > 0) {
          this.current.ts = commitMicros / 1e6;
          this.current.tsSource = 'commit';
        }
        return previous;
      }
      case 'mariadb-gtid': {
        const previous = this.close(false);
        this.current = this.open(event, event.gtid);
        return previous;
      }
      case 'query':
      case 'execute-load-query':
        return this.query(event as QueryEvent);
      case 'rows-query':
        this.ensure(event).statements.push(event.query);
        return undefined;
      case 'rows': {
        const tx = this.ensure(event);
        const n = rowCount ?? (this.countRows ? countRowsOf(event) : 0);
        const table = event.table as TableMapDetails;
        const key = `${table.database}.${table.table}`;
        let counts = tx.rows[key];
        if (!counts) {
          counts = { insert: 0, update: 0, delete: 0 };
          tx.rows[key] = counts;
        }
        counts[event.op] += n;
        return undefined;
      }
      case 'xid':
        return this.commit();
      case 'xa-prepare':
        return this.commit();
      default:
        return undefined;
    }
  }

  /** The transaction in progress when the stream ends, marked incomplete. */
  finish(): Transaction | undefined {
    return this.close(false);
  }

  private query(event: QueryEvent): Transaction | undefined {
    const text = event.query;
    const word = leadingKeyword(text);
    if (word === 'BEGIN' || (word === 'XA' && /^\s*XA\s+(START|BEGIN)\b/i.test(text))) {
      const tx = this.ensure(event);
      tx.begun = true;
      tx.threadId ??= event.threadId;
      if (word === 'XA') tx.statements.push(text);
      return undefined;
    }
    // Only a bare COMMIT/ROLLBACK ends the group: ROLLBACK TO SAVEPOINT does not.
    if ((word === 'COMMIT' || word === 'ROLLBACK') && /^\s*(COMMIT|ROLLBACK)\s*$/i.test(text)) {
      if (!this.current) return undefined;
      return this.commit();
    }
    const tx = this.ensure(event);
    tx.threadId ??= event.threadId;
    tx.statements.push(text);
    // A statement outside BEGIN...COMMIT (DDL, XA COMMIT, MyISAM without GTIDs) is its own group.
    if (!tx.begun) return this.commit();
    return undefined;
  }

  private open(event: BinlogEvent, gtid: string | undefined): OpenTransaction {
    const h = event.header;
    return {
      gtid,
      file: h.file,
      start: h.position,
      end: this.lastEnd,
      ts: h.timestamp,
      tsSource: 'statement-start',
      serverId: h.serverId,
      threadId: undefined,
      statements: [],
      rows: {},
      begun: false,
    };
  }

  private ensure(event: BinlogEvent): OpenTransaction {
    this.current ??= this.open(event, undefined);
    return this.current;
  }

  private commit(): Transaction | undefined {
    return this.close(true);
  }

  private close(complete: boolean): Transaction | undefined {
    const tx = this.current;
    if (!tx) return undefined;
    this.current = undefined;
    return {
      gtid: tx.gtid,
      file: tx.file,
      start: tx.start,
      end: complete ? this.lastEnd : Math.max(tx.end, this.lastEnd),
      ts: tx.ts,
      tsSource: tx.tsSource,
      serverId: tx.serverId,
      threadId: tx.threadId,
      statements: tx.statements,
      rows: tx.rows,
      complete,
    };
  }
}

function leadingKeyword(text: string): string {
  const m = /^\s*([A-Za-z]+)/.exec(text);
  return m ? (m[1] as string).toUpperCase() : '';
}

/** A reader over the row images of a rows event, naming its place in errors. */
export function rowsReader(event: RowsEvent): ByteReader {
  return imagesReader(event, { file: event.header.file, position: event.header.position });
}

/** How many rows (before/after pairs for updates) a rows event bound to its table map holds, without decoding values. */
export function countRowsOf(event: RowsEvent): number {
  return countRows(rowsReader(event), event.table as TableMapDetails, event);
}

/** Decodes the rows of a rows event bound to its table map. */
export function rowsOf(event: RowsEvent): RowImages[] {
  return decodeRows(rowsReader(event), event.table as TableMapDetails, event);
}

/** Transactions of a decoded event stream, as they commit. */
export async function* readTransactions(events: AsyncIterable<BinlogEvent>): AsyncGenerator<Transaction> {
  const assembler = new TransactionAssembler(true);
  for await (const event of events) {
    const done = assembler.push(event);
    if (done) yield done;
  }
  const last = assembler.finish();
  if (last) yield last;
}

/** One changed row, with the transaction it belongs to. */
export interface RowChange {
  readonly gtid: string | undefined;
  readonly file: string;
  /** Offset of the rows event holding the row. */
  readonly pos: number;
  readonly table: TableMapDetails;
  readonly op: RowOperation;
  readonly before?: RowImage;
  readonly after?: RowImage;
}

export interface RowChangeFilter {
  /** Only rows of these transactions. */
  readonly gtids?: ReadonlySet<string>;
}

/** The rows of one rows event, with the transaction it belongs to. */
export interface RowsEventChanges {
  readonly gtid: string | undefined;
  readonly event: RowsEvent;
  readonly table: TableMapDetails;
  readonly rows: readonly RowImages[];
}

/**
 * The decoded rows of each rows event, in binlog order: one step per event
 * rather than per row, for consumers that handle millions of rows.
 */
export async function* readRowsEvents(
  events: AsyncIterable<BinlogEvent>,
  filter: RowChangeFilter = {},
): AsyncGenerator<RowsEventChanges> {
  const assembler = new TransactionAssembler(false);
  const gtids = filter.gtids;
  for await (const event of events) {
    assembler.push(event, 0);
    if (event.kind !== 'rows') continue;
    const gtid = assembler.current?.gtid;
    if (gtids && (gtid === undefined || !gtids.has(gtid))) continue;
    yield { gtid, event, table: event.table as TableMapDetails, rows: rowsOf(event) };
  }
}

/** Every row change of a decoded event stream, in binlog order. */
export async function* readRowChanges(
  events: AsyncIterable<BinlogEvent>,
  filter: RowChangeFilter = {},
): AsyncGenerator<RowChange> {
  for await (const { gtid, event, table, rows } of readRowsEvents(events, filter)) {
    for (const row of rows) {
      yield {
        gtid,
        file: event.header.file,
        pos: event.header.position,
        table,
        op: event.op,
        before: row.before,
        after: row.after,
      };
    }
  }
}
