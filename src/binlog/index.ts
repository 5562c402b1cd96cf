/**
 * The binlog module: read MySQL and MariaDB binary logs (files or a live
 * server) as decoded events, transactions and row changes, all streamed.
 */

import { isSalvageError } from '../errors.js';
import type { ConnectTarget } from '../mysql/index.js';
import { decodeEventChunks, type EventStreamOptions } from './event-stream.js';
import type { BinlogEvent } from './events/index.js';
import type { GtidSelection } from './gtid-list.js';
import type { EventChunk } from './sources/files.js';
import { type FileSelection, readBinlogFileChunks, resolveBinlogFiles } from './sources/files.js';
import { findTransactionStart, transactionGate } from './sources/transaction-start.js';
import { startForTransactions } from './stream/first-log.js';
import { openReplicationChunks, type ReplicationStart } from './stream/index.js';

export { allSet, Bitmap, ByteReader, sameBytes } from './byte-reader.js';
export { crc32 } from './crc32.js';
export {
  decodeEventBatches,
  decodeEventChunks,
  decodeEvents,
  type EventStreamOptions,
  eventDecoder,
} from './event-stream.js';
export { EventFlag, EventType, eventTypeName } from './event-types.js';
export type { BinlogFormat } from './events/format-description.js';
export type { GtidEvent } from './events/gtid.js';
export type { EventHeader } from './events/header.js';
export { EVENT_HEADER_LENGTH } from './events/header.js';
export type { BinlogEvent, BinlogEventKind } from './events/index.js';
export type { QueryEvent } from './events/query.js';
export type { RowsEvent } from './events/rows-event.js';
export type { TableMapEvent } from './events/table-map.js';
export { compareBinlogFiles } from './file-names.js';
export {
  compactGtids,
  expandGtids,
  GtidMatcher,
  type GtidSelection,
  isGtid,
  selectGtids,
} from './gtid-list.js';
export { firstFileHolding, type LoggedBefore, parseGtidState } from './gtid-state.js';
export {
  type ImageSpans,
  imageSpans,
  SPAN_ABSENT,
  SPAN_NULL,
  skipImage,
} from './row-count.js';
export { columnNames, rowChangeJson, rowImageJson, rowsEventJson, rowsEventLines } from './row-json.js';
export { decodeRowImage, decodeRows, type RowImages } from './rows.js';
export {
  BINLOG_MAGIC,
  type BinlogNotice,
  type ChunkOptions,
  type EventChunk,
  type FileSelection,
  readBinlogFile,
  readBinlogFileBatches,
  readBinlogFileChunks,
  readBinlogFiles,
  readBinlogFilesBatches,
  resolveBinlogFiles,
} from './sources/files.js';
export { findTransactionStart, type TransactionStart } from './sources/transaction-start.js';
export * from './stream/index.js';
export {
  countRowsOf,
  type RowChange,
  type RowChangeFilter,
  type RowCounts,
  type RowsEventChanges,
  readRowChanges,
  readRowsEvents,
  readTransactions,
  rowsOf,
  rowsReader,
  type Transaction,
  TransactionAssembler,
} from './transactions.js';
// Flavor is the mysql module's (the same union); everything else of the data contract:
export {
  type ColumnDef,
  type ColumnExtras,
  ColumnType,
  type JsonDiff,
  type JsonDiffValue,
  type RawEvent,
  type RowImage,
  type RowOperation,
  type TableMap,
  type TableMapDetails,
  type Value,
} from './types.js';
export { type ValueJson, valueToJson } from './values/to-json.js';

/** Where to read a binlog from. */
export type BinlogInput =
  | FileSelection
  | {
      readonly server: ConnectTarget;
      readonly start?: ReplicationStart;
      readonly until?: 'end' | 'follow';
    };

/** The decoded events of binlog files or of a live server, in order. */
export function readBinlog(
  input: BinlogInput,
  options: EventStreamOptions = {},
): AsyncGenerator<BinlogEvent> {
  return eachOf(readBinlogBatches(input, options));
}

/**
 * The same events as readBinlog in batches (up to 64 events of one chunk read from a file,
 * or of what a server sent since the last batch): whole-binlog readers loop over
 * a batch synchronously and await once per batch instead of once per event.
 */
export function readBinlogBatches(
  input: BinlogInput,
  options: EventStreamOptions = {},
): AsyncGenerator<BinlogEvent[]> {
  if ('server' in input) {
    const chunks = openReplicationChunks({ server: input.server, start: input.start, until: input.until });
    return decodeEventChunks(eachOf(chunks), options);
  }
  return decodeEventChunks(chunksOf(input, options), options);
}

async function* chunksOf(input: FileSelection, options: EventStreamOptions): AsyncGenerator<EventChunk> {
  yield* chunksFrom(await resolveBinlogFiles(input), undefined, options);
}

async function* eachOf<T>(batches: AsyncIterable<readonly T[]>): AsyncGenerator<T> {
  for await (const batch of batches) yield* batch;
}

/** How readBinlogFrom finds its start. */
export interface FromOptions extends EventStreamOptions {
  /**
   * Skip what precedes the first transaction by its GTID sequence number:
   * in large files by bisecting on them instead of stepping through every
   * event before it; from a MariaDB server by a replica position just
   * before it, so the server skips the rest of its log without sending it.
   * Should the transactions be logged out of order, the start found may be
   * past one of them (or the server refuse the position): the caller must
   * check that every transaction was read, and read again without seeking
   * when one was not (readFromTransactions does).
   */
  readonly seek?: boolean;
}

/**
 * The decoded events from the first of `gtids` on, in batches. From files,
 * nothing before it is decoded or even copied (each file's
 * FORMAT_DESCRIPTION aside), and none of them found is an empty stream; from
 * a server, the dump starts where `input` says, else at the newest log none
 * of them was logged before, and what precedes the first of them is dropped
 * as it arrives, undecoded and uncopied (FORMAT_DESCRIPTIONs aside).
 */
export async function* readBinlogFrom(
  input: BinlogInput,
  gtids: GtidSelection,
  options: FromOptions = {},
): AsyncGenerator<BinlogEvent[]> {
  if ('server' in input) {
    const start = input.start ?? (await startForTransactions(input.server, gtids, { seek: options.seek }));
    const chunks = openReplicationChunks({
      server: input.server,
      start,
      until: input.until,
      admit: transactionGate(gtids),
    });
    yield* decodeEventChunks(eachOf(chunks), options);
    return;
  }
  const files = await resolveBinlogFiles(input);
  const start = await findTransactionStart(files, gtids, { seek: options.seek === true });
  if (start === undefined) return;
  yield* decodeEventChunks(chunksFrom(files.slice(start.fileIndex), start.position, options), options);
}

/**
 * `consume` of the events from the first of `gtids` on (readBinlogFrom,
 * seeking its start). `consume` must read the stream to its end, have no
 * effect but its result, and throw GTID_NOT_FOUND for a transaction it did
 * not see: it then runs again over the events found without seeking (a
 * seek can pass a transaction logged out of order, and a server refuses a
 * position with GTID_NOT_FOUND too), and only a second GTID_NOT_FOUND is
 * the caller's.
 */
export async function readFromTransactions<T>(
  input: BinlogInput,
  gtids: GtidSelection,
  options: EventStreamOptions,
  consume: (events: AsyncIterable<readonly BinlogEvent[]>) => Promise<T>,
): Promise<T> {
  try {
    return await consume(readBinlogFrom(input, gtids, { ...options, seek: true }));
  } catch (error) {
    if (!isSalvageError(error) || error.code !== 'GTID_NOT_FOUND') throw error;
    return consume(readBinlogFrom(input, gtids, { ...options, seek: false }));
  }
}

async function* chunksFrom(
  files: readonly string[],
  from: number | undefined,
  options: EventStreamOptions,
): AsyncGenerator<EventChunk> {
  for (const [index, file] of files.entries()) {
    yield* readBinlogFileChunks(file, { from: index === 0 ? from : undefined, onNotice: options.onNotice });
  }
}
