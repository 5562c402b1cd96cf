/**
 * RawEvents (from files or the replication stream) to decoded events: tracks
 * the FORMAT_DESCRIPTION in force, verifies CRC32s, binds rows events to
 * their TABLE_MAP, expands TRANSACTION_PAYLOADs into their inner events, and
 * reports (or, in strict mode, refuses) events it cannot decode.
 */
import { isSalvageError, SalvageError } from '../errors.js';
import type { TableShape } from '../mysql/index.js';
import { ByteReader, sameBytes } from './byte-reader.js';
import { crc32, eventsHoldChecksums } from './crc32.js';
import { EventFlag, EventType, eventTypeName } from './event-types.js';
import { type BinlogFormat, DEFAULT_FORMAT } from './events/format-description.js';
import { decodeEventHeader, EVENT_HEADER_LENGTH } from './events/header.js';
import { type BinlogEvent, decodeEvent, type EventLocation } from './events/index.js';
import { mayChangeData } from './events/other.js';
import { RowsEventFlag } from './events/rows-event.js';
import type { BinlogNotice, EventChunk } from './sources/files.js';
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
  /**
   * Event types the caller never reads (statement annotations, say): their
   * checksums are verified but they are not decoded or delivered.
   */
  readonly ignore?: ReadonlySet<number>;
  /**
   * Event types decoded and applied (a TABLE_MAP still binds the rows
   * events after it) but not delivered, for callers that never look at them.
   */
  readonly quiet?: ReadonlySet<number>;
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

/** Decoded events per batch from a chunk: few enough to die young (see BATCH_EVENTS in sources/files.ts). */
const CHUNK_BATCH_EVENTS = 64;

/**
 * Decodes file chunks (readBinlogFileChunks) in place, without a RawEvent
 * per event: batches of up to 64 decoded events, valid until the next batch
 * is requested (rows events point into the chunk).
 */
export async function* decodeEventChunks(
  chunks: AsyncIterable<EventChunk>,
  options: EventStreamOptions = {},
): AsyncGenerator<BinlogEvent[]> {
  const decode = eventDecoderAt(options);
  for await (const chunk of chunks) {
    const { buffer, file } = chunk;
    const gap = chunk.gap ?? 0;
    let position = chunk.position;
    let decoded: BinlogEvent[] = [];
    let failure: unknown;
    // One CRC over the chunk checks every event in it; a chunk that fails is checked event by event,
    // which names the damaged event (so does a chunk that begins a file: its format is not known yet).
    const checked = decode.checksHere() && eventsHoldChecksums(buffer, chunk.start, chunk.end, gap) === true;
    try {
      for (let at = chunk.start; at < chunk.end; ) {
        const length = buffer.readUInt32LE(at + 9);
        decode(buffer, at, at + length, file, position, decoded, checked);
        at += length + gap;
        position += length;
        if (decoded.length >= CHUNK_BATCH_EVENTS) {
          yield decoded;
          decoded = [];
        }
      }
    } catch (error) {
      failure = error;
    }
    // What decoded before an error is still delivered, then the error.
    if (decoded.length > 0) yield decoded;
    if (failure !== undefined) throw failure;
  }
}

/**
 * The decoding state of one stream: a function appending each raw event's
 * decoded events to `out` (several for a TRANSACTION_PAYLOAD), for callers
 * that keep each event with its raw bytes.
 */
export function eventDecoder(options: EventStreamOptions): (raw: RawEvent, out: BinlogEvent[]) => void {
  const decode = eventDecoderAt(options);
  return (raw, out) => decode(raw.bytes, 0, raw.bytes.length, raw.file, raw.position, out);
}

type DecodeInPlace = (
  bytes: Buffer,
  start: number,
  end: number,
  file: string,
  position: number,
  out: BinlogEvent[],
  /** The caller verified the event's checksum already (eventsHoldChecksums). */
  checked?: boolean,
) => void;

/**
 * The decoder of eventDecoder for events read in place: `bytes[start..end)`
 * is one whole event at `position` of `file` (an EventChunk's events).
 */
export type PositionalDecoder = DecodeInPlace & {
  /** Whether the next event's checksum would be verified: verification is on and the format in force has checksums. */
  readonly checksHere: () => boolean;
};

/**
 * The TABLE_MAPs bound since the last statement ended (STMT_END), by table
 * id. A statement maps a handful of tables and the binding is cleared after
 * every one of them: a short list, cleared by forgetting its length, costs
 * nothing per statement where a Map's clear allocated a new table.
 */
class StatementTables {
  readonly #ids: number[] = [];
  readonly #tables: TableMapDetails[] = [];
  #count = 0;

  get(id: number): TableMapDetails | undefined {
    for (let i = 0; i < this.#count; i++) if (this.#ids[i] === id) return this.#tables[i];
    return undefined;
  }

  set(id: number, table: TableMapDetails): void {
    for (let i = 0; i < this.#count; i++) {
      if (this.#ids[i] === id) {
        this.#tables[i] = table;
        return;
      }
    }
    this.#ids[this.#count] = id;
    this.#tables[this.#count] = table;
    this.#count++;
  }

  clear(): void {
    this.#count = 0;
  }
}

/** 1 at each event type of the set (types are one byte). */
function typeTable(types: ReadonlySet<number> | undefined): Uint8Array {
  const table = new Uint8Array(256);
  for (const type of types ?? []) if (type >= 0 && type < 256) table[type] = 1;
  return table;
}

export function eventDecoderAt(options: EventStreamOptions): PositionalDecoder {
  const verify = options.verify ?? true;
  // Per event type, as a table: a Set lookup per event costs more than the bytes of most events.
  const ignore = typeTable(options.ignore);
  const quiet = typeTable(options.quiet);
  const strict = options.strict ?? false;
  let format: BinlogFormat = DEFAULT_FORMAT;
  const tables = new StatementTables();
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
  /** The table an event's TABLE_MAP body was decoded to before, when it is byte for byte the same body. */
  const knownTableMap = (bytes: Buffer, start: number, end: number): TableMapDetails | undefined => {
    const bodyEnd = end - (format.checksum ? 4 : 0);
    const bodyStart = start + EVENT_HEADER_LENGTH;
    if (bodyEnd < bodyStart + 6) return undefined;
    const known = tableMaps.get(bytes.readUIntLE(bodyStart, 6));
    return known !== undefined && sameBytes(known.body, bytes, bodyStart, bodyEnd) ? known.table : undefined;
  };
  const decodeTableMapOnce = (
    bytes: Buffer,
    start: number,
    end: number,
    where: EventLocation,
  ): BinlogEvent => {
    const bodyEnd = end - (format.checksum ? 4 : 0);
    const bodyStart = start + EVENT_HEADER_LENGTH;
    const known = knownTableMap(bytes, start, end);
    if (known !== undefined) {
      const header = decodeEventHeader(
        new ByteReader(bytes, start, bodyEnd, where),
        where.file,
        where.position,
      );
      return { kind: 'table-map', header, table: known };
    }
    const event = decodeEvent(bytes, start, end, format, format.checksum, where);
    if (event.kind === 'table-map' && bodyEnd >= bodyStart + 6) {
      if (tableMaps.size >= TABLE_MAP_CACHE_SIZE) tableMaps = new Map();
      const body = Buffer.from(bytes.subarray(bodyStart, bodyEnd));
      tableMaps.set(bytes.readUIntLE(bodyStart, 6), { body, table: event.table });
    }
    return event;
  };

  const decode: DecodeInPlace = (bytes, start, end, file, position, out, checked = false) => {
    if (file !== currentFile) {
      currentFile = file;
      tables.clear();
    }
    if (end - start < EVENT_HEADER_LENGTH) {
      throw new SalvageError('BINLOG_CORRUPT', `event at ${file}:${position} is shorter than its header`, {
        context: { file, position },
      });
    }
    const type = bytes[start + 4] as number;
    const isFde = type === EventType.FORMAT_DESCRIPTION;
    // Events skipped here (most of a range) cost no location object unless their checksum is checked.
    const verifying = verify && !checked;
    if (ignore[type] === 1 && !isFde) {
      if (verifying && format.checksum) verifyChecksum(bytes, start, end, false, { file, position });
      return;
    }
    const quietly = quiet[type] === 1;
    if (quietly && type === EventType.TABLE_MAP) {
      const known = knownTableMap(bytes, start, end);
      if (known !== undefined) {
        if (verifying && format.checksum) verifyChecksum(bytes, start, end, false, { file, position });
        tables.set(known.tableId, completeTable(known, file, position));
        return;
      }
    }
    const where = { file, position };
    const event =
      type === EventType.TABLE_MAP
        ? decodeTableMapOnce(bytes, start, end, where)
        : decodeEvent(bytes, start, end, format, format.checksum && !isFde, where);
    const hasChecksum = event.kind === 'format-description' ? event.checksumAlgorithm === 1 : format.checksum;
    if (verifying && hasChecksum) verifyChecksum(bytes, start, end, isFde, where);
    const admitted = admit(event);
    if (!quietly) out.push(admitted);
    if (event.kind === 'rows' && event.flags & RowsEventFlag.STMT_END) tables.clear();
    if (event.kind === 'transaction-payload') {
      const inner = event.events;
      let offset = 0;
      while (offset < inner.length) {
        if (inner.length - offset < EVENT_HEADER_LENGTH) {
          throw new SalvageError(
            'BINLOG_CORRUPT',
            `TRANSACTION_PAYLOAD at ${file}:${position} ends inside an event`,
            {
              context: where,
            },
          );
        }
        const length = inner.readUInt32LE(offset + 9);
        if (length < EVENT_HEADER_LENGTH || offset + length > inner.length) {
          throw new SalvageError(
            'BINLOG_CORRUPT',
            `TRANSACTION_PAYLOAD at ${file}:${position} holds an event of impossible length ${length}`,
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
  return Object.assign(decode, { checksHere: () => verify && format.checksum });
}

/**
 * Compares an event's CRC32 trailer with its bytes. Servers compute the FDE's
 * CRC with LOG_EVENT_BINLOG_IN_USE_F cleared (the flag is reset when the file
 * is closed, without rewriting the checksum), so that variant also passes.
 */
export function verifyChecksum(
  bytes: Buffer,
  start: number,
  end: number,
  isFde: boolean,
  where: { file: string; position: number },
): void {
  const crcAt = end - 4;
  const stored = bytes.readUInt32LE(crcAt);
  const actual = crc32(bytes, start, crcAt);
  if (actual === stored) return;
  if (isFde) {
    const flags = bytes.readUInt16LE(start + 17);
    const other = Buffer.from([(flags ^ EventFlag.BINLOG_IN_USE) & 0xff, flags >>> 8]);
    let crc = crc32(bytes, start, start + 17);
    crc = crc32(other, 0, 2, crc);
    if (crc32(bytes, start + 19, crcAt, crc) === stored) return;
  }
  throw new SalvageError(
    'BINLOG_CHECKSUM',
    `${eventTypeName(bytes[start + 4] as number)} event at ${where.file}:${where.position} fails its CRC32 (stored ${hex(stored)}, computed ${hex(actual)})`,
    { context: where },
  );
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}
