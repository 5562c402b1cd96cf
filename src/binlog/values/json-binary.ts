/**
 * MySQL binary JSON (`json_binary.h`) → a small document tree → JSON text
 * printed the way MySQL prints it (`{"a": 1, "b": [true, null]}`: ", " and
 * ": " separators, keys in stored order). Scalars keep their exact text, so
 * 64-bit integers and DECIMAL opaque values are never rounded.
 *
 * Layout: a type byte, then the value. Objects and arrays ("small" with
 * 2-byte counts and offsets, "large" with 4-byte) hold an element count, their
 * byte size, key entries (offset, length), then value entries (type, offset
 * or an inlined small scalar). Offsets count from the byte after the type.
 */
import { ByteReader } from '../byte-reader.js';
import { ColumnType } from '../types.js';
import { readDecimal } from './decimal.js';
import { formatPackedDateTimeValue, formatPackedTimeValue } from './temporal.js';

/** A JSON value with exact scalar texts; arrays are mutable so JSON diffs can be applied. */
export type JsonNode = JsonObject | JsonArray | JsonScalar;

export interface JsonObject {
  readonly kind: 'object';
  /** Member names (decoded), in the server's order: by UTF-8 length, then bytes. */
  readonly keys: string[];
  readonly values: JsonNode[];
}

export interface JsonArray {
  readonly kind: 'array';
  readonly items: JsonNode[];
}

export interface JsonScalar {
  readonly kind: 'scalar';
  /** The scalar exactly as MySQL prints it (strings quoted and escaped). */
  readonly text: string;
}

const JsonType = {
  SMALL_OBJECT: 0x00,
  LARGE_OBJECT: 0x01,
  SMALL_ARRAY: 0x02,
  LARGE_ARRAY: 0x03,
  LITERAL: 0x04,
  INT16: 0x05,
  UINT16: 0x06,
  INT32: 0x07,
  UINT32: 0x08,
  INT64: 0x09,
  UINT64: 0x0a,
  DOUBLE: 0x0b,
  STRING: 0x0c,
  OPAQUE: 0x0f,
} as const;

const NULL_NODE: JsonScalar = { kind: 'scalar', text: 'null' };
const TRUE_NODE: JsonScalar = { kind: 'scalar', text: 'true' };
const FALSE_NODE: JsonScalar = { kind: 'scalar', text: 'false' };
/** MySQL refuses documents nested deeper than this (JSON_DOCUMENT_MAX_DEPTH). */
const MAX_DEPTH = 100;

/** Reads a binary JSON document of `length` bytes; an empty value is JSON null (as `Field_json` reads it). */
export function readJsonBinary(r: ByteReader, length: number): JsonNode {
  if (length === 0) return NULL_NODE;
  const doc = r.sub(length);
  const type = doc.u8();
  return readValue(doc, type, doc.pos, doc.end, 0);
}

/** The JSON text of a tree, as MySQL prints it. */
export function jsonText(node: JsonNode): string {
  switch (node.kind) {
    case 'scalar':
      return node.text;
    case 'array': {
      let text = '[';
      for (let i = 0; i < node.items.length; i++) {
        if (i > 0) text += ', ';
        text += jsonText(node.items[i] as JsonNode);
      }
      return `${text}]`;
    }
    case 'object': {
      let text = '{';
      for (let i = 0; i < node.keys.length; i++) {
        if (i > 0) text += ', ';
        text += `${JSON.stringify(node.keys[i])}: ${jsonText(node.values[i] as JsonNode)}`;
      }
      return `${text}}`;
    }
  }
}

/** The value of type `type` stored at `at`, inside a parent ending at `end`. */
function readValue(r: ByteReader, type: number, at: number, end: number, depth: number): JsonNode {
  if (depth > MAX_DEPTH) throw r.corrupt(`binary JSON nested deeper than ${MAX_DEPTH} levels`);
  switch (type) {
    case JsonType.SMALL_OBJECT:
    case JsonType.LARGE_OBJECT:
    case JsonType.SMALL_ARRAY:
    case JsonType.LARGE_ARRAY:
      return readContainer(r, type, at, end, depth);
    case JsonType.OPAQUE:
      r.pos = at;
      return readOpaque(r);
    default:
      r.pos = at;
      return readScalar(r, type);
  }
}

function readScalar(r: ByteReader, type: number): JsonScalar {
  switch (type) {
    case JsonType.LITERAL: {
      const literal = r.u8();
      if (literal === 0) return NULL_NODE;
      if (literal === 1) return TRUE_NODE;
      if (literal === 2) return FALSE_NODE;
      throw r.corrupt(`binary JSON literal ${literal} is not null, true or false`);
    }
    case JsonType.INT16:
      return scalar(`${r.i16()}`);
    case JsonType.UINT16:
      return scalar(`${r.u16()}`);
    case JsonType.INT32:
      return scalar(`${r.i32()}`);
    case JsonType.UINT32:
      return scalar(`${r.u32()}`);
    case JsonType.INT64:
      return scalar(r.i64().toString());
    case JsonType.UINT64:
      return scalar(r.u64().toString());
    case JsonType.DOUBLE:
      return scalar(formatJsonDouble(r.f64()));
    case JsonType.STRING:
      return scalar(JSON.stringify(r.string(readVariableLength(r))));
    default:
      throw r.corrupt(`binary JSON value type 0x${type.toString(16)} is unknown`);
  }
}

function readContainer(r: ByteReader, type: number, base: number, end: number, depth: number): JsonNode {
  const large = type === JsonType.LARGE_OBJECT || type === JsonType.LARGE_ARRAY;
  const isObject = type === JsonType.SMALL_OBJECT || type === JsonType.LARGE_OBJECT;
  const offsetSize = large ? 4 : 2;
  r.pos = base;
  const count = large ? r.u32() : r.u16();
  const size = large ? r.u32() : r.u16();
  const limit = base + size;
  if (limit > end) throw r.corrupt(`binary JSON container of ${size} bytes overruns its parent`);
  const keyEntries = base + 2 * offsetSize;
  const valueEntries = keyEntries + (isObject ? count * (offsetSize + 2) : 0);
  if (valueEntries + count * (1 + offsetSize) > limit) {
    throw r.corrupt(`binary JSON container claims ${count} elements but is only ${size} bytes`);
  }
  const readOffset = (): number => {
    const offset = large ? r.u32() : r.u16();
    if (offset >= size) throw r.corrupt(`binary JSON offset ${offset} is outside its ${size}-byte container`);
    return base + offset;
  };

  const values: JsonNode[] = new Array(count);
  for (let i = 0; i < count; i++) {
    r.pos = valueEntries + i * (1 + offsetSize);
    const valueType = r.u8();
    if (isInlined(valueType, large)) {
      values[i] = readScalar(r, valueType);
    } else {
      values[i] = readValue(r, valueType, readOffset(), limit, depth + 1);
    }
  }
  if (!isObject) return { kind: 'array', items: values };

  const keys: string[] = new Array(count);
  for (let i = 0; i < count; i++) {
    r.pos = keyEntries + i * (offsetSize + 2);
    const at = readOffset();
    const length = r.u16();
    if (at + length > limit) throw r.corrupt('binary JSON key overruns its object');
    r.pos = at;
    keys[i] = r.string(length);
  }
  return { kind: 'object', keys, values };
}

/** Literals and 16-bit integers (and 32-bit ones in large containers) sit in the value entry itself. */
function isInlined(type: number, large: boolean): boolean {
  switch (type) {
    case JsonType.LITERAL:
    case JsonType.INT16:
    case JsonType.UINT16:
      return true;
    case JsonType.INT32:
    case JsonType.UINT32:
      return large;
    default:
      return false;
  }
}

/**
 * An opaque value: a MySQL field type, a length and the field's bytes. MySQL
 * prints DECIMAL as a number, temporal values as quoted strings with six
 * fractional digits, anything else as "base64:type<N>:<data>".
 */
function readOpaque(r: ByteReader): JsonScalar {
  const fieldType = r.u8();
  const data = r.sub(readVariableLength(r));
  switch (fieldType) {
    case ColumnType.NEWDECIMAL: {
      const precision = data.u8();
      const scale = data.u8();
      return scalar(readDecimal(data, precision, scale));
    }
    case ColumnType.DATE:
      return scalar(JSON.stringify(formatPackedDateTimeValue(data.i64(), false)));
    case ColumnType.DATETIME:
    case ColumnType.DATETIME2:
    case ColumnType.TIMESTAMP:
    case ColumnType.TIMESTAMP2:
      return scalar(JSON.stringify(formatPackedDateTimeValue(data.i64(), true)));
    case ColumnType.TIME:
    case ColumnType.TIME2:
      return scalar(JSON.stringify(formatPackedTimeValue(data.i64())));
    default:
      return scalar(`"base64:type${fieldType}:${data.rest().toString('base64')}"`);
  }
}

/** Lengths of strings and opaque data: 7 bits per byte, low first, high bit = more (at most 5 bytes). */
function readVariableLength(r: ByteReader): number {
  let length = 0;
  for (let i = 0; i < 5; i++) {
    const byte = r.u8();
    length += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return length;
  }
  throw r.corrupt('binary JSON length longer than 5 bytes');
}

/**
 * A double as MySQL's JSON printer writes it: shortest round-trip digits, an
 * exponent without "+", and ".0" on integral values so it reads back as a
 * double. (MySQL switches to exponent notation at slightly different
 * magnitudes than JavaScript; both texts denote the same double.)
 */
export function formatJsonDouble(value: number): string {
  if (Object.is(value, -0)) return '-0.0';
  const text = String(value).replace('e+', 'e');
  return /[.e]/.test(text) ? text : `${text}.0`;
}

function scalar(text: string): JsonScalar {
  return { kind: 'scalar', text };
}

/** Reads a standalone binary JSON value from a buffer (tests and JSON diffs). */
export function jsonBinaryToText(bytes: Buffer): string {
  return jsonText(readJsonBinary(new ByteReader(bytes), bytes.length));
}
