/**
 * Counting the rows of a rows event without decoding their values: the
 * timeline needs only how many rows each event holds, and skipping by
 * length is several times faster than building every value. The lengths
 * follow the value decoders (values/value.ts); test/binlog/row-count.test.ts
 * checks both consume the same bytes on every fixture. The same walk tells
 * where each value of an image is, for readers that compare rows as bytes.
 */
import type { ByteReader } from './byte-reader.js';
import type { RowsEvent } from './events/rows-event.js';
import { decodeRows } from './rows.js';
import { type ColumnDef, ColumnType, type TableMap } from './types.js';
import { MariadbCompressedType } from './values/compressed-column.js';
import { decimalBinarySize } from './values/decimal.js';

const MARIADB_BLOB_COMPRESSED = MariadbCompressedType.BLOB;
const MARIADB_VARCHAR_COMPRESSED = MariadbCompressedType.VARCHAR;

/** Moves the reader past one non-NULL value of `column`. */
export function skipValue(r: ByteReader, column: ColumnDef): void {
  r.skip(valueLength(r, column));
}

/**
 * The length of one non-NULL value of `column`, after reading its length
 * prefix when it has one (the reader then stands at the value's bytes).
 */
function valueLength(r: ByteReader, column: ColumnDef): number {
  const meta = column.meta;
  switch (column.type) {
    case ColumnType.TINY:
    case ColumnType.YEAR:
      return 1;
    case ColumnType.SHORT:
      return 2;
    case ColumnType.INT24:
    case ColumnType.DATE:
    case ColumnType.NEWDATE:
    case ColumnType.TIME:
      return 3;
    case ColumnType.LONG:
    case ColumnType.FLOAT:
    case ColumnType.TIMESTAMP:
      return 4;
    case ColumnType.LONGLONG:
    case ColumnType.DOUBLE:
    case ColumnType.DATETIME:
      return 8;
    case ColumnType.TIME2:
      return 3 + ((meta + 1) >> 1);
    case ColumnType.TIMESTAMP2:
      return 4 + ((meta + 1) >> 1);
    case ColumnType.DATETIME2:
      return 5 + ((meta + 1) >> 1);
    case ColumnType.NEWDECIMAL:
      return decimalBinarySize(meta >>> 8, meta & 0xff);
    case ColumnType.BIT:
      return (meta >>> 8) + ((meta & 0xff) > 0 ? 1 : 0);
    case ColumnType.VARCHAR:
    case ColumnType.VAR_STRING:
    case MARIADB_VARCHAR_COMPRESSED:
      return meta > 255 ? r.u16() : r.u8();
    case ColumnType.ENUM:
    case ColumnType.SET:
      return meta & 0xff;
    case ColumnType.STRING: {
      const high = meta >>> 8;
      const low = meta & 0xff;
      if (high === ColumnType.ENUM || high === ColumnType.SET) return low;
      // CHAR over 255 bytes keeps two length bits, inverted, in the real-type byte.
      const maxLength = high !== 0 && (high & 0x30) !== 0x30 ? low | (((high & 0x30) ^ 0x30) << 4) : low;
      return maxLength > 255 ? r.u16() : r.u8();
    }
    case ColumnType.BLOB:
    case ColumnType.TINY_BLOB:
    case ColumnType.MEDIUM_BLOB:
    case ColumnType.LONG_BLOB:
    case ColumnType.GEOMETRY:
    case ColumnType.VECTOR:
    case ColumnType.JSON:
    case MARIADB_BLOB_COMPRESSED:
      return r.uintLE(meta);
    default:
      throw r.corrupt(`column type ${column.type} has no known length; the row cannot be skipped`);
  }
}

/** In `ImageSpans`: the column is NULL in the image, or not in it at all (a partial image). */
export const SPAN_NULL = -1;
export const SPAN_ABSENT = -2;

/**
 * Per column of a table, where its value sits in one row image:
 * `[2i]..[2i+1]` is the byte range of column i's value in the rows buffer,
 * length prefix included (equal values have equal bytes); `[2i]` is
 * SPAN_NULL or SPAN_ABSENT instead when there is no value.
 */
export type ImageSpans = Int32Array;

/** Room for the spans of one image of a table of `columns` columns. */
export function imageSpans(columns: number): ImageSpans {
  return new Int32Array(columns * 2);
}

/**
 * Moves the reader past one row image (NULL bitmap, then each present
 * non-NULL value) without decoding it; with `spans`, records where each
 * column's value is.
 */
export function skipImage(
  r: ByteReader,
  columns: readonly ColumnDef[],
  present: RowsEvent['present'],
  presentCount: number,
  spans?: ImageSpans,
): void {
  // The NULL bitmap is read in place: no view or Bitmap per row.
  const nulls = r.pos;
  r.skip((presentCount + 7) >>> 3);
  const bytes = r.buffer;
  let image = 0;
  for (let i = 0; i < columns.length; i++) {
    if (!present.has(i)) {
      if (spans !== undefined) spans[2 * i] = SPAN_ABSENT;
      continue;
    }
    const isNull = ((bytes[nulls + (image >>> 3)] as number) >>> (image & 7)) & 1;
    image++;
    if (isNull === 1) {
      if (spans !== undefined) spans[2 * i] = SPAN_NULL;
      continue;
    }
    const start = r.pos;
    skipValue(r, columns[i] as ColumnDef);
    if (spans !== undefined) {
      spans[2 * i] = start;
      spans[2 * i + 1] = r.pos;
    }
  }
}

/** How many rows (before/after pairs for updates) a rows event holds. */
export function countRows(r: ByteReader, table: TableMap, event: RowsEvent): number {
  // Partial JSON updates interleave value options and diff bitmaps: rare enough to decode.
  if (event.partial) return decodeRows(r, table, event).length;
  const columns = table.columns;
  const presentCount = event.present.count();
  const after = event.presentAfter;
  const afterCount = after ? after.count() : 0;
  let rows = 0;
  while (r.remaining > 0) {
    skipImage(r, columns, event.present, presentCount);
    if (after) skipImage(r, columns, after, afterCount);
    rows++;
  }
  return rows;
}
