/**
 * The frame of every rows event (WRITE/UPDATE/DELETE v1 and v2, MySQL's
 * PARTIAL_UPDATE_ROWS, MariaDB's compressed variants): table id, flags, v2
 * extra data, column count and columns-present bitmaps. The row images that
 * follow are read by the value decoders (`Rows_log_event`).
 */
import { type Bitmap, ByteReader } from '../byte-reader.js';
import { rowsEventShape } from '../event-types.js';
import { inflateMariadbBlock } from '../mariadb-compression.js';
import type { RowOperation, TableMapDetails } from '../types.js';
import type { BinlogFormat } from './format-description.js';
import type { EventHeader } from './header.js';
import { readTableId } from './table-map.js';

export const RowsEventFlag = {
  STMT_END: 0x0001,
  NO_FOREIGN_KEY_CHECKS: 0x0002,
  RELAXED_UNIQUE_CHECKS: 0x0004,
  COMPLETE_ROWS: 0x0008,
} as const;

export interface RowsEvent {
  readonly kind: 'rows';
  readonly header: EventHeader;
  readonly op: RowOperation;
  /** PARTIAL_UPDATE_ROWS: after-images may hold JSON diffs instead of whole JSON values. */
  readonly partial: boolean;
  readonly tableId: number;
  readonly flags: number;
  /** v2 extra row info (NDB data, partition ids), raw. */
  readonly extraData?: Buffer;
  readonly columnCount: number;
  /** Columns present in the before-image (delete, update) or the after-image (insert). */
  readonly present: Bitmap;
  /** Columns present in the update after-image. */
  readonly presentAfter?: Bitmap;
  /**
   * The row images (inflated when the event was compressed). A view into the
   * source's read buffer: decode it (`rowsOf`) before the next event is read.
   */
  readonly rows: Buffer;
  /**
   * The same bytes as `rows`, as `rowBytes[rowsStart..rowsEnd)`: where the
   * readers that step through them in place find them (no Buffer per event).
   */
  readonly rowBytes: Buffer;
  readonly rowsStart: number;
  readonly rowsEnd: number;
  /** The table the id maps to; set by the event stream from the preceding TABLE_MAP. */
  table?: TableMapDetails;
}

/**
 * A decoded rows event. A class: its `rows` view is made on first use, and
 * most readers never ask for it (a range's rows events are hundreds of
 * thousands, read in place).
 */
class DecodedRowsEvent implements RowsEvent {
  readonly kind = 'rows';
  table?: TableMapDetails = undefined;
  #rows: Buffer | undefined = undefined;

  constructor(
    readonly header: EventHeader,
    readonly op: RowOperation,
    readonly partial: boolean,
    readonly tableId: number,
    readonly flags: number,
    readonly extraData: Buffer | undefined,
    readonly columnCount: number,
    readonly present: Bitmap,
    readonly presentAfter: Bitmap | undefined,
    readonly rowBytes: Buffer,
    readonly rowsStart: number,
    readonly rowsEnd: number,
  ) {}

  get rows(): Buffer {
    this.#rows ??= Buffer.from(
      this.rowBytes.buffer,
      this.rowBytes.byteOffset + this.rowsStart,
      this.rowsEnd - this.rowsStart,
    );
    return this.#rows;
  }
}

export function decodeRowsEvent(r: ByteReader, header: EventHeader, format: BinlogFormat): RowsEvent {
  const shape = rowsEventShape(header.type);
  if (!shape) throw r.corrupt(`event type ${header.type} is not a rows event`);
  const tableId = readTableId(r, format, header.type);
  const flags = r.u16();
  let extraData: Buffer | undefined;
  if (shape.v2) {
    // The length counts its own two bytes.
    const extraLength = r.u16();
    if (extraLength < 2) throw r.corrupt(`rows event extra-data length ${extraLength} is below 2`);
    if (extraLength > 2) extraData = Buffer.from(r.bytes(extraLength - 2));
  }
  const columnCount = r.packedInt();
  const present = r.presence(columnCount);
  const isUpdate = shape.op === 'update' || shape.op === 'partial-update';
  const presentAfter = isUpdate ? r.presence(columnCount) : undefined;
  const inflated = shape.compressed ? inflateMariadbBlock(r) : undefined;
  const rowBytes = inflated ?? r.buffer;
  const rowsStart = inflated === undefined ? r.pos : 0;
  const rowsEnd = inflated === undefined ? r.end : inflated.length;
  r.pos = r.end;
  // An image with no columns takes no bytes: row data after it could never be consumed.
  if (
    rowsEnd > rowsStart &&
    (present.count() === 0 || (presentAfter !== undefined && presentAfter.count() === 0))
  ) {
    throw r.corrupt('rows event has row data but no columns in its image');
  }
  return new DecodedRowsEvent(
    header,
    shape.op === 'partial-update' ? 'update' : shape.op,
    shape.op === 'partial-update',
    tableId,
    flags,
    extraData,
    columnCount,
    present,
    presentAfter,
    rowBytes,
    rowsStart,
    rowsEnd,
  );
}

/** A reader over a rows event's row images, carrying the event's location for errors. */
export function rowsReader(event: RowsEvent, context: ByteReader['context']): ByteReader {
  return new ByteReader(event.rowBytes, event.rowsStart, event.rowsEnd, context);
}
