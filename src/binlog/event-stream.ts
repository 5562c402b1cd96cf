/**
 * RawEvents (from files or the replication stream) to decoded events: tracks
 * the FORMAT_DESCRIPTION in force, verifies CRC32s, binds rows events to
 * their TABLE_MAP, expands TRANSACTION_PAYLOADs into their inner events, and
 * reports (or, in strict mode, refuses) events it cannot decode.
 */
import { isSalvageError, SalvageError } from '../errors.js';
import type { TableShape } from '../mysql/index.js';
import { ByteReader } from './byte-reader.js';
import { crc32 } from './crc32.js';
import { EventFlag, EventType, eventTypeName } from './event-types.js';
import { type BinlogFormat, DEFAULT_FORMAT } from './events/format-description.js';
import { decodeEventHeader, EVENT_HEADER_LENGTH } from './events/header.js';
import { type BinlogEvent, decodeEvent, type EventLocation } from './events/index.js';
import { mayChangeData } from './events/other.js';
import { RowsEventFlag } from './events/rows-event.js';
import type { BinlogNotice } from './sources/files.js';
import type { RawEvent, TableMapDetails } from './types.js';
import { withLiveSchema } from './values/live-schema.js';

export interface EventStreamOptions {
  /** Check every CRC32 (default true); false reads damaged files anyway. */
  readonly verify?: boolean;
  /**
   * Refuse (BINLOG_UNSUPPORTED) event types that are unknown and not marked
   * ignorable, or known to change data in ways salvage does not decode. The
   * recovery paths set this: dropping such an event silently loses rows.
   */
  readonly strict?: boolean;
  /** Told once per unknown event type (and about truncation, by the file source). */
  readonly onNotice?: (notice: BinlogNotice) => void;
  /**
   * The live server's tables, keyed `db.table` (describeAllTables): column
   * names, signedness and charsets a MINIMAL-metadata binlog lacks are taken
   * from them. When given (even empty), a table whose facts neither the
   * binlog nor this map supply is reported once (onNotice); readers that
   * need no column names leave it out.
   */
  readonly liveSchema?: ReadonlyMap<string, TableShape>;
}

/** Distinct TABLE_MAP bodies remembered (the cache starts over beyond this). */
const TABLE_MAP_CACHE_SIZE = 4096;

/** Decodes a RawEvent stream; breaking out of the loop closes the source. */
export async function* decodeEvents(
  source: AsyncIterable<RawEvent>,
  options: EventStreamOptions = {},
): AsyncGenerator<BinlogEvent> {
  const decode = eventDecoder(options);
  const decoded: BinlogEvent[] = [];
  for await (const raw of source) {
    try {
      decode(raw, decoded);
    } finally {
      // What decoded before an error is still delivered, then the error.
      for (const event of decoded) yield event;
      decoded.length = 0;
    }
  }
}

/**
 * Decodes RawEvent batches (readBinlogFilesBatches) into event batches: the
 * same events as decodeEvents with one await per batch, not per event.
 */
export async function* decodeEventBatches(
  source: AsyncIterable<readonly RawEvent[]>,
  options: EventStreamOptions = {},
): AsyncGenerator<BinlogEvent[]> {
  const decode = eventDecoder(options);
  for await (const raws of source) {
    const decoded: BinlogEvent[] = [];
    try {
      for (const raw of raws) decode(raw, decoded);
    } finally {
      if (decoded.length > 0) yield decoded;
    }
  }
}

/**
 * The decoding state of one stream: a function appending each raw event's
 * decoded events to `out` (several for a TRANSACTION_PAYLOAD), for callers
 * that keep each event with its raw bytes.
 */
export function eventDecoder(options: EventStreamOptions): (raw: RawEvent, out: BinlogEvent[]) => void {
  const verify = options.verify ?? true;
  const strict = options.strict ?? false;
  let format: BinlogFormat = DEFAULT_FORMAT;
  let tables = new Map<number, TableMapDetails>();
  let currentFile = '';
  const reported = new Set<number>();

  const admit = (event: BinlogEvent): BinlogEvent => {
    switch (event.kind) {
      case 'format-description':
        format = event.format;
        // The same bytes may decode differently under another format.
        tableMaps = new Map();
        break;
      case 'table-map': {
        const table = completeTable(event.table, event.header.file, event.header.position);
        tables.set(table.tableId, table);
        if (table !== event.table) return { ...event, table };
        break;
      }
      case 'rows': {
        const table = tables.get(event.tableId);
        if (!table) {
          throw new SalvageError(
            'BINLOG_UNKNOWN_TABLE',
            `rows event at ${event.header.file}:${event.header.position} uses table id ${event.tableId}, which no TABLE_MAP defined`,
            { context: { file: event.header.file, position: event.header.position } },
          );
        }
        if (table.columns.length !== event.columnCount) {
          throw new SalvageError(
            'BINLOG_CORRUPT',
            `rows event at ${event.header.file}:${event.header.position} has ${event.columnCount} columns, its table map ${table.columns.length}`,
            {
              context: {
                file: event.header.file,
                position: event.header.position,
                table: `${table.database}.${table.table}`,
              },
            },
          );
        }
        event.table = table;
        break;
      }
      case 'unknown':
      case 'other':
        notice(
          event.header.type,
          event.header.file,
          event.header.position,
          event.header.flags,
          event.kind === 'unknown',
        );
        break;
      default:
        break;
    }
    return event;
  };

  const completed = new WeakMap<TableMapDetails, TableMapDetails>();
  const incomplete = new Set<string>();
  const completeTable = (table: TableMapDetails, file: string, position: number): TableMapDetails => {
    if (options.liveSchema === undefined) return table;
    const known = completed.get(table);
    if (known !== undefined) return known;
    const name = `${table.database}.${table.table}`;
    const named = table.columns.every((column) => column.name !== undefined);
    const shape = options.liveSchema?.get(name);
    let result = table;
    let reason: string | undefined;
    if (shape !== undefined) {
      try {
        result = withLiveSchema(table, shape);
      } catch (error) {
        if (!isSalvageError(error)) throw error;
        reason = named
          ? `${error.message}; values are decoded with the binlog's own column facts`
          : `${error.message}; its columns are shown as @1, @2...`;
      }
    } else if (!named) {
      reason = `the binlog has no column names for ${name} (binlog_row_metadata=MINIMAL) and no server supplied them (give --source, a server that has the table): its columns are shown as @1, @2...`;
    }
    if (reason !== undefined && !incomplete.has(name)) {
      incomplete.add(name);
      options.onNotice?.({ kind: 'column-facts-missing', file, position, table: name, reason });
    }
    completed.set(table, result);
    return result;
  };

  const notice = (type: number, file: string, position: number, flags: number, unknown: boolean): void => {
    const refuse = unknown ? (flags & EventFlag.IGNORABLE) === 0 : mayChangeData(type);
    if (strict && refuse) {
      throw new SalvageError(
        'BINLOG_UNSUPPORTED',
        `${eventTypeName(type)} event (type ${type}) at ${file}:${position} cannot be decoded, and it may change data`,
        { context: { file, position } },
      );
    }
    if ((unknown || refuse) && !reported.has(type)) {
      reported.add(type);
      options.onNotice?.({ kind: 'unknown-event', file, position, type });
    }
  };

  /**
   * Decoded TABLE_MAP bodies by their first six bytes (the table id): most
   * servers re-log the same map in every transaction, so an identical body
   * shares the TableMapDetails decoded before instead of decoding it again.
   */
  let tableMaps = new Map<number, { body: Buffer; table: TableMapDetails }>();
  const decodeTableMapOnce = (bytes: Buffer, where: EventLocation): BinlogEvent => {
    const bodyEnd = bytes.length - (format.checksum ? 4 : 0);
    if (bodyEnd >= EVENT_HEADER_LENGTH + 6) {
      const key = bytes.readUIntLE(EVENT_HEADER_LENGTH, 6);
      const known = tableMaps.get(key);
      if (known !== undefined && known.body.compare(bytes, EVENT_HEADER_LENGTH, bodyEnd) === 0) {
        const header = decodeEventHeader(
          new ByteReader(bytes, 0, bodyEnd, where),
          where.file,
          where.position,
        );
        return { kind: 'table-map', header, table: known.table };
      }
    }
    const event = decodeEvent(bytes, 0, bytes.length, format, format.checksum, where);
    if (event.kind === 'table-map' && bodyEnd >= EVENT_HEADER_LENGTH + 6) {
      if (tableMaps.size >= TABLE_MAP_CACHE_SIZE) tableMaps = new Map();
      const body = Buffer.from(bytes.subarray(EVENT_HEADER_LENGTH, bodyEnd));
      tableMaps.set(bytes.readUIntLE(EVENT_HEADER_LENGTH, 6), { body, table: event.table });
    }
    return event;
  };

  return (raw, out) => {
    if (raw.file !== currentFile) {
      currentFile = raw.file;
      tables = new Map();
    }
    const bytes = raw.bytes;
    const where = { file: raw.file, position: raw.position };
    if (bytes.length < EVENT_HEADER_LENGTH) {
      throw new SalvageError(
        'BINLOG_CORRUPT',
        `event at ${raw.file}:${raw.position} is shorter than its header`,
        { context: where },
      );
    }
    const isFde = bytes[4] === EventType.FORMAT_DESCRIPTION;
    const event =
      bytes[4] === EventType.TABLE_MAP
        ? decodeTableMapOnce(bytes, where)
        : decodeEvent(bytes, 0, bytes.length, format, format.checksum && !isFde, where);
    const checked = event.kind === 'format-description' ? event.checksumAlgorithm === 1 : format.checksum;
    if (verify && checked) verifyChecksum(bytes, isFde, where);
    out.push(admit(event));
    if (event.kind === 'rows' && event.flags & RowsEventFlag.STMT_END) tables.clear();
    if (event.kind === 'transaction-payload') {
      const inner = event.events;
      let offset = 0;
      while (offset < inner.length) {
        if (inner.length - offset < EVENT_HEADER_LENGTH) {
          throw new SalvageError(
            'BINLOG_CORRUPT',
            `TRANSACTION_PAYLOAD at ${raw.file}:${raw.position} ends inside an event`,
            {
              context: where,
            },
          );
        }
        const length = inner.readUInt32LE(offset + 9);
        if (length < EVENT_HEADER_LENGTH || offset + length > inner.length) {
          throw new SalvageError(
            'BINLOG_CORRUPT',
            `TRANSACTION_PAYLOAD at ${raw.file}:${raw.position} holds an event of impossible length ${length}`,
            {
              context: where,
            },
          );
        }
        // Events inside a payload carry no checksum (the payload event has one).
        const innerEvent = decodeEvent(inner, offset, offset + length, format, false, {
          ...where,
          payloadOffset: offset,
        });
        out.push(admit(innerEvent));
        if (innerEvent.kind === 'rows' && innerEvent.flags & RowsEventFlag.STMT_END) tables.clear();
        offset += length;
      }
    }
  };
}

/**
 * Compares an event's CRC32 trailer with its bytes. Servers compute the FDE's
 * CRC with LOG_EVENT_BINLOG_IN_USE_F cleared (the flag is reset when the file
 * is closed, without rewriting the checksum), so that variant also passes.
 */
function verifyChecksum(bytes: Buffer, isFde: boolean, where: { file: string; position: number }): void {
  const end = bytes.length - 4;
  const stored = bytes.readUInt32LE(end);
  const actual = crc32(bytes, 0, end);
  if (actual === stored) return;
  if (isFde) {
    const flags = bytes.readUInt16LE(17);
    const other = Buffer.from([(flags ^ EventFlag.BINLOG_IN_USE) & 0xff, flags >>> 8]);
    let crc = crc32(bytes, 0, 17);
    crc = crc32(other, 0, 2, crc);
    if (crc32(bytes, 19, end, crc) === stored) return;
  }
  throw new SalvageError(
    'BINLOG_CHECKSUM',
    `${eventTypeName(bytes[4] as number)} event at ${where.file}:${where.position} fails its CRC32 (stored ${hex(stored)}, computed ${hex(actual)})`,
    { context: where },
  );
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}
