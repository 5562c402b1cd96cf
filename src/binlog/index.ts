/**
 * The binlog module: read MySQL and MariaDB binary logs (files or a live
 * server) as decoded events, transactions and row changes, all streamed.
 */
import type { ConnectTarget } from '../mysql/index.js';
import { decodeEvents, type EventStreamOptions } from './event-stream.js';
import type { BinlogEvent } from './events/index.js';
import { type FileSelection, readBinlogFiles } from './sources/files.js';
import { openReplicationStream, type ReplicationStart } from './stream/index.js';
import type { RawEvent } from './types.js';

export { Bitmap, ByteReader } from './byte-reader.js';
export { crc32 } from './crc32.js';
export { decodeEvents, type EventStreamOptions } from './event-stream.js';
export { EventFlag, EventType, eventTypeName } from './event-types.js';
export type { BinlogFormat } from './events/format-description.js';
export type { GtidEvent } from './events/gtid.js';
export type { EventHeader } from './events/header.js';
export type { BinlogEvent, BinlogEventKind } from './events/index.js';
export type { QueryEvent } from './events/query.js';
export type { RowsEvent } from './events/rows-event.js';
export type { TableMapEvent } from './events/table-map.js';
export { columnNames, rowChangeJson, rowImageJson } from './row-json.js';
export { decodeRowImage, decodeRows, type RowImages } from './rows.js';
export {
  BINLOG_MAGIC,
  type BinlogNotice,
  type FileSelection,
  readBinlogFile,
  readBinlogFiles,
  resolveBinlogFiles,
} from './sources/files.js';
export * from './stream/index.js';
export {
  type RowChange,
  type RowChangeFilter,
  type RowCounts,
  readRowChanges,
  readTransactions,
  rowsOf,
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
  let raw: AsyncIterable<RawEvent>;
  if ('server' in input) {
    raw = openReplicationStream({ server: input.server, start: input.start, until: input.until });
  } else {
    raw = readBinlogFiles(input, { onNotice: options.onNotice });
  }
  return decodeEvents(raw, options);
}
