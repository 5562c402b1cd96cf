/**
 * What impact and undo read from a binlog: a stream of row changes and
 * statements, each tagged with its transaction's GTID, in binlog order. Rows
 * are streamed one rows event at a time, so a huge later transaction never
 * sits in memory.
 */

import { basename } from 'node:path';
import {
  type BinlogEvent,
  type BinlogInput,
  decodeEventBatches,
  EventType,
  type FileSelection,
  type RawEvent,
  readBinlogBatches,
  readBinlogFilesBatches,
  resolveBinlogFiles,
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
  if (startAt === undefined || 'server' in input) {
    return changesOfBatches(readBinlogBatches(input, { strict: true }), startAt);
  }
  return changesOfFilesFrom(input, startAt);
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
): AsyncGenerator<ChangeEvent> {
  const scan = changeScanner(startAt);
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
      for (const row of rowsOf(event)) {
        const change: ChangedRow = { kind: event.op, table, before: row.before, after: row.after };
        out.push({ kind: 'row', gtid: rowGtid, ...where, change });
      }
    } else if (event.kind === 'query' && !/^\s*(BEGIN|COMMIT|ROLLBACK)\s*$/i.test(event.query)) {
      out.push({ kind: 'statement', gtid, ...where, schema: event.schema, text: event.query });
    }
  };
}

/** Where a transaction starts: a file of the selection and the offset of its GTID event. */
interface TransactionStart {
  readonly fileIndex: number;
  readonly position: number;
}

/**
 * Files: a first pass decodes only FORMAT_DESCRIPTION and GTID events to find
 * where the first wanted transaction starts; the second decodes from there.
 * Nothing is found: an empty stream, and the caller reports the GTIDs missing.
 */
async function* changesOfFilesFrom(
  selection: FileSelection,
  startAt: ReadonlySet<string>,
): AsyncGenerator<ChangeEvent> {
  const files = await resolveBinlogFiles(selection);
  const start = await findTransactionStart(files, startAt);
  if (start === undefined) return;
  // RawEvent.file is the file's base name.
  const first = basename(files[start.fileIndex] as string);
  const raw = keepEvents(
    readBinlogFilesBatches({ files: files.slice(start.fileIndex) }),
    // The format description (each file's first event) governs how the rest decodes; the
    // statement text logged beside row events is never read here.
    (event) =>
      !ANNOTATIONS.has(typeCode(event)) &&
      (event.file !== first || event.position >= start.position || typeCode(event) === FORMAT),
  );
  yield* changesOfBatches(decodeEventBatches(raw, { strict: true }), startAt);
}

async function findTransactionStart(
  files: readonly string[],
  startAt: ReadonlySet<string>,
): Promise<TransactionStart | undefined> {
  for (const [fileIndex, file] of files.entries()) {
    const raw = keepEvents(readBinlogFilesBatches({ files: [file] }), (event) => HEADS.has(typeCode(event)));
    for await (const batch of decodeEventBatches(raw)) {
      for (const event of batch) {
        if ((event.kind === 'gtid' || event.kind === 'mariadb-gtid') && startAt.has(event.gtid ?? '')) {
          return { fileIndex, position: event.header.position };
        }
      }
    }
  }
  return undefined;
}

const FORMAT = EventType.FORMAT_DESCRIPTION;
/** MariaDB's ANNOTATE_ROWS and MySQL's ROWS_QUERY: the statement behind row events, for people. */
const ANNOTATIONS: ReadonlySet<number> = new Set([EventType.ANNOTATE_ROWS, EventType.ROWS_QUERY]);
/** The events a transaction-finding pass decodes; START_ENCRYPTION so an encrypted file is refused, not misread. */
const HEADS: ReadonlySet<number> = new Set([
  FORMAT,
  EventType.START_ENCRYPTION,
  EventType.GTID,
  EventType.GTID_TAGGED,
  EventType.MARIADB_GTID,
]);

/** type_code, the byte after the 4-byte timestamp of every event header (LOG_EVENT_TYPE_OFFSET). */
function typeCode(event: RawEvent): number {
  return event.bytes[4] ?? -1;
}

async function* keepEvents(
  batches: AsyncIterable<RawEvent[]>,
  keep: (event: RawEvent) => boolean,
): AsyncGenerator<RawEvent[]> {
  for await (const batch of batches) {
    const kept = batch.filter(keep);
    if (kept.length > 0) yield kept;
  }
}
