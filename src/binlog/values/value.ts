/**
 * The one column-value decoder: reads a non-NULL value of a row image,
 * switching on the column type and its TABLE_MAP metadata (`Field::unpack`
 * of each field class; the metadata packing is described on `ColumnType`).
 */
import { SalvageError } from '../../errors.js';
import type { ByteReader } from '../byte-reader.js';
import { type ColumnDef, ColumnType, type Value } from '../types.js';
import { BINARY_COLLATION, decodeText, keep } from './charset.js';
import { MariadbCompressedType, readCompressedColumn } from './compressed-column.js';
import { readDecimal } from './decimal.js';
import { type JsonNode, jsonText, readJsonBinary } from './json-binary.js';
import {
  readDate,
  readDatetime,
  readDatetime2,
  readTime,
  readTime2,
  readTimestamp,
  readTimestamp2,
  readYear,
} from './temporal.js';

const TWO_POW_32 = 0x1_0000_0000;
/** |high word| below this keeps a 64-bit integer within ±(2^53 − 1). */
const SAFE_HIGH_WORD = 0x200000;

/**
 * Decodes one value. Signedness unknown (no SIGNEDNESS metadata and no live
 * schema) reads integers as signed, the server's default.
 */
export function decodeValue(r: ByteReader, column: ColumnDef): Value {
  const meta = column.meta;
  switch (column.type) {
    case ColumnType.TINY:
      return column.unsigned ? r.u8() : r.i8();
    case ColumnType.SHORT:
      return column.unsigned ? r.u16() : r.i16();
    case ColumnType.INT24:
      return column.unsigned ? r.u24() : r.i24();
    case ColumnType.LONG:
      return column.unsigned ? r.u32() : r.i32();
    case ColumnType.LONGLONG:
      return column.unsigned ? readUnsigned64(r) : readSigned64(r);
    case ColumnType.FLOAT:
      return shortestFloat(r.f32());
    case ColumnType.DOUBLE:
      return r.f64();
    case ColumnType.NEWDECIMAL:
      return readDecimal(r, meta >>> 8, meta & 0xff);
    case ColumnType.YEAR:
      return readYear(r);
    case ColumnType.DATE:
    case ColumnType.NEWDATE:
      return readDate(r);
    case ColumnType.TIME:
      return readTime(r);
    case ColumnType.TIME2:
      return readTime2(r, meta);
    case ColumnType.DATETIME:
      return readDatetime(r);
    case ColumnType.DATETIME2:
      return readDatetime2(r, meta);
    case ColumnType.TIMESTAMP:
      return readTimestamp(r);
    case ColumnType.TIMESTAMP2:
      return readTimestamp2(r, meta);
    case ColumnType.BIT:
      // meta = whole bytes << 8 | leftover bits
      return keep(r.bytes((meta >>> 8) + ((meta & 0xff) > 0 ? 1 : 0)), r.lasting);
    case ColumnType.VARCHAR:
    case ColumnType.VAR_STRING:
      return decodeText(r.bytes(meta > 255 ? r.u16() : r.u8()), column.charset, r.lasting);
    case ColumnType.STRING:
      return readString(r, column);
    case ColumnType.ENUM:
      return enumValue(r.uintLE(meta & 0xff), column);
    case ColumnType.SET:
      return readSet(r, meta & 0xff, column);
    case ColumnType.BLOB:
    case ColumnType.TINY_BLOB:
    case ColumnType.MEDIUM_BLOB:
    case ColumnType.LONG_BLOB:
      // TEXT is a BLOB with a text collation; MariaDB's JSON is a TEXT too.
      return decodeText(r.bytes(r.uintLE(meta)), column.charset, r.lasting);
    case ColumnType.GEOMETRY:
    case ColumnType.VECTOR:
      // GEOMETRY: 4-byte SRID + WKB; VECTOR: little-endian float32s.
      return keep(r.bytes(r.uintLE(meta)), r.lasting);
    case ColumnType.JSON:
      return jsonText(readJsonColumn(r, column));
    case MariadbCompressedType.VARCHAR:
      return decodeText(readCompressedColumn(r, meta > 255 ? r.u16() : r.u8()), column.charset);
    case MariadbCompressedType.BLOB:
      return decodeText(readCompressedColumn(r, r.uintLE(meta)), column.charset);
    default:
      throw unsupported(r, column);
  }
}

/** A MySQL binary JSON column as a tree (partial JSON updates apply diffs to it). */
export function readJsonColumn(r: ByteReader, column: ColumnDef): JsonNode {
  return readJsonBinary(r, r.uintLE(column.meta));
}

/**
 * The STRING type covers CHAR, BINARY, ENUM and SET: the metadata's high byte
 * is the real type, the low byte the length — except for CHAR columns over 255
 * bytes, whose two extra length bits are stored inverted in bits 4–5 of the
 * real-type byte (Field_string::do_save_field_metadata, bug #37426).
 */
function readString(r: ByteReader, column: ColumnDef): Value {
  const high = column.meta >>> 8;
  const low = column.meta & 0xff;
  let realType = high;
  let maxLength = low;
  if (high !== 0 && (high & 0x30) !== 0x30) {
    maxLength = low | (((high & 0x30) ^ 0x30) << 4);
    realType = high | 0x30;
  }
  if (realType === ColumnType.ENUM) return enumValue(r.uintLE(low), column);
  if (realType === ColumnType.SET) return readSet(r, low, column);
  const bytes = r.bytes(maxLength > 255 ? r.u16() : r.u8());
  if (column.charset === BINARY_COLLATION && bytes.length < maxLength) {
    // BINARY(n) is stored with its trailing 0x00 padding stripped; the value is all n bytes.
    const padded = new Uint8Array(maxLength);
    padded.set(bytes);
    return padded;
  }
  return decodeText(bytes, column.charset, r.lasting);
}

/** ENUM: the 1-based index of the member (0 = the empty "error" value), named when the TABLE_MAP has the names. */
function enumValue(index: number, column: ColumnDef): Value {
  const names = column.enumValues;
  if (names === undefined) return index;
  if (index === 0) return '';
  return names[index - 1] ?? index;
}

/** SET: a bitmask of 1–8 bytes, named ("a,c") when the TABLE_MAP has the member names. */
function readSet(r: ByteReader, size: number, column: ColumnDef): Value {
  const mask = size <= 6 ? r.uintLE(size) : r.u64();
  const names = column.setValues;
  if (names === undefined) return typeof mask === 'bigint' ? exactBigint(mask) : mask;
  const big = BigInt(mask);
  if (big >> BigInt(names.length) !== 0n) return typeof mask === 'bigint' ? exactBigint(mask) : mask;
  const members: string[] = [];
  for (let i = 0; i < names.length; i++) if ((big >> BigInt(i)) & 1n) members.push(names[i] as string);
  return members.join(',');
}

function readSigned64(r: ByteReader): number | bigint {
  const low = r.u32();
  const high = r.i32();
  if (high > -SAFE_HIGH_WORD && high < SAFE_HIGH_WORD) return high * TWO_POW_32 + low;
  return (BigInt(high) << 32n) | BigInt(low);
}

function readUnsigned64(r: ByteReader): number | bigint {
  const low = r.u32();
  const high = r.u32();
  if (high < SAFE_HIGH_WORD) return high * TWO_POW_32 + low;
  return (BigInt(high) << 32n) | BigInt(low);
}

function exactBigint(value: bigint): number | bigint {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

/**
 * A FLOAT as the shortest decimal that reads back as the same float32, which
 * is what the server prints (3.14, not 3.140000104904175).
 */
function shortestFloat(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return Number(value.toPrecision(9));
}

function unsupported(r: ByteReader, column: ColumnDef): SalvageError {
  const name = column.name === undefined ? '' : ` (${column.name})`;
  return new SalvageError(
    'BINLOG_UNSUPPORTED',
    `column type ${column.type}${name} cannot be decoded: the length of its values is unknown, so the rest of the row cannot be read`,
    { context: r.context },
  );
}
