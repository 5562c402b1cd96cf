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
import type { JsonDiff, Value } from '../types.js';

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
  let hex = '';
  for (let i = 0; i < bytes.length; i++) hex += HEX_PAIRS[bytes[i] as number];
  return hex;
}
