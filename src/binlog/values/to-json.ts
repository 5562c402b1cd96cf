/**
 * The JSON encoding of decoded values used by `salvage binlog rows --json`:
 * NULL → null; integers → numbers within ±(2^53 − 1), else strings; DECIMAL,
 * temporal (TIMESTAMP in UTC), text, ENUM/SET names and JSON documents →
 * strings; FLOAT/DOUBLE → numbers; bytes (BINARY, BLOB, BIT, GEOMETRY,
 * VECTOR, undecodable text) → {"hex": "..."}; an unapplied partial JSON
 * update → {"jsonDiff": [{operation, path, value?}]}.
 *
 * Runs for every value of large binlogs: no per-value allocation beyond the
 * output itself.
 */
import type { ByteReader } from '../byte-reader.js';
import { type ColumnDef, ColumnType, type JsonDiff, type Value } from '../types.js';
import { BINARY_COLLATION, decodeText } from './charset.js';
import { decodeValue } from './value.js';

export type ValueJson =
  | null
  | number
  | string
  | { readonly hex: string }
  | { readonly jsonDiff: readonly JsonDiff[] };

/** The JSON form of a value; undefined (a column absent from the image) stays undefined so it is left out. */
export function valueToJson(value: Value | undefined): ValueJson | undefined {
  switch (typeof value) {
    case 'number':
    case 'string':
    case 'undefined':
      return value;
    case 'bigint':
      // Decoders only produce bigint outside the safe range.
      return value.toString();
    default:
      if (value === null) return null;
      if (value instanceof Uint8Array) return { hex: toHex(value) };
      return { jsonDiff: value.diffs };
  }
}

const HEX_PAIRS: readonly string[] = Array.from({ length: 256 }, (_, byte) =>
  byte.toString(16).padStart(2, '0'),
);
/** Below this many bytes a table lookup beats creating a Buffer view for the native encoder. */
const NATIVE_HEX_FROM = 48;

/** Lower-case hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  if (bytes.length >= NATIVE_HEX_FROM) {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  }
  return hexOf(bytes, 0, bytes.length);
}

/** A value's JSON text as `salvage binlog rows --json` writes it (valueToJson, serialized). */
export function valueJson(v: Value): string {
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v) ? String(v) : JSON.stringify(String(v));
    case 'string':
      return JSON.stringify(v);
    case 'bigint':
      return `"${v}"`;
    default:
      if (v === null) return 'null';
      if (v instanceof Uint8Array) return `{"hex":"${toHex(v)}"}`;
      return JSON.stringify(valueToJson(v));
  }
}

/**
 * Reads one non-NULL value and returns its JSON text: the same text as
 * valueJson(decodeValue(r, column)), but character and binary columns go
 * from the event bytes to the output without a copied Uint8Array per value
 * (sysbench-style CHAR columns without charset metadata are all bytes).
 */
export function readValueJson(r: ByteReader, column: ColumnDef): string {
  const meta = column.meta;
  switch (column.type) {
    case ColumnType.VARCHAR:
    case ColumnType.VAR_STRING:
      return textJson(r, meta > 255 ? r.u16() : r.u8(), column.charset, 0);
    case ColumnType.BLOB:
    case ColumnType.TINY_BLOB:
    case ColumnType.MEDIUM_BLOB:
    case ColumnType.LONG_BLOB:
      return textJson(r, r.uintLE(meta), column.charset, 0);
    case ColumnType.STRING: {
      // The layout rules are readString's (values/value.ts): ENUM and SET go the general way.
      const high = meta >>> 8;
      let realType = high;
      let maxLength = meta & 0xff;
      if (high !== 0 && (high & 0x30) !== 0x30) {
        realType = high | 0x30;
        maxLength |= ((high & 0x30) ^ 0x30) << 4;
      }
      if (realType === ColumnType.ENUM || realType === ColumnType.SET) break;
      const n = maxLength > 255 ? r.u16() : r.u8();
      return textJson(r, n, column.charset, column.charset === BINARY_COLLATION ? maxLength : 0);
    }
    default:
      break;
  }
  return valueJson(decodeValue(r, column));
}

/** `n` bytes of text in `collation`; binary ones are zero-padded to `padTo` (BINARY(n)). */
function textJson(r: ByteReader, n: number, collation: number | undefined, padTo: number): string {
  if (collation === undefined || collation === BINARY_COLLATION) {
    r.need(n);
    const start = r.pos;
    r.pos += n;
    const hex =
      n < NATIVE_HEX_FROM ? hexOf(r.buffer, start, start + n) : r.buffer.toString('hex', start, start + n);
    return n < padTo ? `{"hex":"${hex}${'00'.repeat(padTo - n)}"}` : `{"hex":"${hex}"}`;
  }
  return valueJson(decodeText(r.bytes(n), collation));
}

function hexOf(bytes: Uint8Array, start: number, end: number): string {
  let hex = '';
  for (let i = start; i < end; i++) hex += HEX_PAIRS[bytes[i] as number];
  return hex;
}
