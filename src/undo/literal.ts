/**
 * Exact SQL for binlog values, per column type. Literals do not depend on the
 * session's sql_mode (no backslash escapes are relied on: text with a
 * backslash or a control character is written as hex) but do need the
 * session settings the undo script sets first: time_zone '+00:00' (the reader
 * prints TIMESTAMP values in UTC) and utf8mb4 as the connection charset.
 */
import type { Value } from '../binlog/types.js';
import { SalvageError } from '../errors.js';
import type { ColumnFacts, TableFacts } from '../impact/index.js';
import { GEOMETRY_DATA_TYPES, quoteIdentifier, quoteTableName } from '../mysql/index.js';
import { BINARY_OPEN, hexLiteral, isPlainBinary, type SqlWriter } from './sql-text.js';

const quotedNames = new WeakMap<ColumnFacts | TableFacts, string>();

/** A column's or table's quoted name, built once: an undo writes it tens of thousands of times. */
export function quotedName(of: ColumnFacts | TableFacts): string {
  let name = quotedNames.get(of);
  if (name === undefined) {
    name = 'schema' in of ? quoteTableName(of.schema, of.table) : quoteIdentifier(of.name);
    quotedNames.set(of, name);
  }
  return name;
}

/** Session settings every undo statement assumes. */
export const SESSION_SETUP = ['SET NAMES utf8mb4', "SET time_zone = '+00:00'"] as const;

const INTEGER_BITS: Record<string, number> = { tinyint: 8, smallint: 16, mediumint: 24, int: 32, bigint: 64 };
const TEMPORAL = new Set(['date', 'time', 'datetime', 'timestamp']);
/** Text printable as is under any sql_mode: no quote, no backslash, no control character. */
function isPlainText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f || code === 0x27 || code === 0x5c) return false;
  }
  return true;
}

/** The literal that stores `value` into `column` (INSERT values, UPDATE SET). */
export function valueLiteral(table: TableFacts, column: ColumnFacts, value: Value | undefined): string {
  const v = exactValue(table, column, value);
  if (v === null) return 'NULL';
  if (GEOMETRY_DATA_TYPES.has(column.dataType)) return geometryLiteral(v as Uint8Array);
  if (column.dataType === 'json' && typeof v === 'string') return `CAST(${textLiteral(v)} AS JSON)`;
  return plainLiteral(column, v);
}

/**
 * A condition true exactly when `column` holds `value`: NULL-safe, byte-exact
 * for text (a case or accent change is a change), bit-exact for geometry.
 */
export function exactMatch(table: TableFacts, column: ColumnFacts, value: Value | undefined): string {
  const name = quotedName(column);
  const v = exactValue(table, column, value);
  if (v === null) return `${name} IS NULL`;
  if (GEOMETRY_DATA_TYPES.has(column.dataType)) {
    return `CAST(${name} AS BINARY) <=> ${hexLiteral(v as Uint8Array)}`;
  }
  if (column.dataType === 'json' && typeof v === 'string')
    return `${name} <=> CAST(${textLiteral(v)} AS JSON)`;
  if (column.charset !== undefined && typeof v === 'string') {
    const converted =
      column.charset === 'utf8mb4' ? textLiteral(v) : `CONVERT(${textLiteral(v)} USING ${column.charset})`;
    return `CAST(${name} AS BINARY) <=> CAST(${converted} AS BINARY)`;
  }
  if (column.charset !== undefined && v instanceof Uint8Array)
    return `CAST(${name} AS BINARY) <=> ${bytesLiteral(v)}`;
  return `${name} <=> ${plainLiteral(column, v)}`;
}

/**
 * valueLiteral, exactMatch and keyMatch for one column, written into a
 * statement (the same text for every value), with what depends only on the
 * column worked out once: an undo writes them hundreds of thousands of
 * times, and most of its values are integers and text kept as bytes.
 */
export interface ColumnLiterals {
  readonly value: (out: SqlWriter, value: Value | undefined) => void;
  readonly exact: (out: SqlWriter, value: Value | undefined) => void;
  readonly key: (out: SqlWriter, value: Value | undefined) => void;
}

export function columnLiterals(table: TableFacts, column: ColumnFacts): ColumnLiterals {
  const value = (out: SqlWriter, v: Value | undefined): void => out.text(valueLiteral(table, column, v));
  const exact = (out: SqlWriter, v: Value | undefined): void => out.text(exactMatch(table, column, v));
  const key = (out: SqlWriter, v: Value | undefined): void => out.text(keyMatch(table, column, v));
  const name = quotedName(column);
  const type = column.dataType;
  const special = type === 'json' || type === 'bit' || GEOMETRY_DATA_TYPES.has(type);
  if (column.charset !== undefined && !special) {
    const cast = `CAST(${name} AS BINARY) <=> `;
    const equals = `${name} = `;
    return {
      value: (out, v) => (v instanceof Uint8Array ? out.binary(v) : value(out, v)),
      exact: (out, v) => {
        if (!(v instanceof Uint8Array)) return exact(out, v);
        out.text(cast);
        out.binary(v);
      },
      key: (out, v) => {
        if (!(v instanceof Uint8Array)) return key(out, v);
        out.text(equals);
        out.binary(v);
      },
    };
  }
  if (INTEGER_BITS[type] !== undefined) {
    // A number the column holds as is: not an unsigned value the reader saw as signed.
    const plain = (v: Value | undefined): v is number =>
      typeof v === 'number' && Number.isFinite(v) && (v >= 0 || !column.unsigned);
    const same = `${name} <=> `;
    const equals = `${name} = `;
    return {
      value: (out, v) => (plain(v) ? out.number(v) : value(out, v)),
      exact: (out, v) => {
        if (!plain(v)) return exact(out, v);
        out.text(same);
        out.number(v);
      },
      key: (out, v) => {
        if (!plain(v)) return key(out, v);
        out.text(equals);
        out.number(v);
      },
    };
  }
  return { value, exact, key };
}

/** A condition an index can serve: `col = literal` (collation rules), or IS NULL. */
export function keyMatch(table: TableFacts, column: ColumnFacts, value: Value | undefined): string {
  const name = quotedName(column);
  const v = exactValue(table, column, value);
  return v === null ? `${name} IS NULL` : `${name} = ${plainLiteral(column, v)}`;
}

/** The literal a key condition compares `column` with (`col = literal`, `col IN (...)`). */
export function keyLiteral(table: TableFacts, column: ColumnFacts, value: Value | undefined): string {
  return plainLiteral(column, exactValue(table, column, value));
}

/** What the guard reads of a column: text as its stored bytes (no conversion to the results charset). */
export function liveColumn(column: ColumnFacts): string {
  return column.charset === undefined ? quotedName(column) : `CAST(${quotedName(column)} AS BINARY)`;
}

const LIVE_INTEGERS = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'bigint']);

/**
 * Whether the live bytes of `column` (as liveColumn reads them) are exactly
 * liveForm(value); undefined when the value has no such form. The same
 * answer as comparing with liveForm, without a buffer per integer.
 */
export function holdsLiveForm(
  table: TableFacts,
  column: ColumnFacts,
  value: Value | undefined,
  live: Buffer | null | undefined,
): boolean | undefined {
  if (typeof value === 'number' && (value >= 0 || !column.unsigned) && LIVE_INTEGERS.has(column.dataType)) {
    if (live === null || live === undefined) return false;
    const text = String(value);
    if (text.length !== live.length) return false;
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== live[i]) return false;
    return true;
  }
  // Text kept as bytes is its own live form (JSON aside: only the server compares it).
  if (value instanceof Uint8Array && column.charset !== undefined && column.dataType !== 'json') {
    return live?.equals(value) === true;
  }
  const form = liveForm(table, column, value);
  if (form === undefined) return undefined;
  if (form === null) return live === null;
  return live !== null && live !== undefined && form.equals(live);
}
/**
 * For an integer column, the number whose decimal text is liveForm(value):
 * a key the guard can hash as a number. Undefined for anything else (NULL,
 * a value beyond 2^53, an unsigned value the reader saw as signed).
 */
export function liveInteger(column: ColumnFacts, value: Value | undefined): number | undefined {
  if (typeof value !== 'number' || !LIVE_INTEGERS.has(column.dataType) || !Number.isSafeInteger(value))
    return undefined;
  return value < 0 && column.unsigned ? undefined : value;
}

/**
 * The number the server's text for an integer column says (digits, a minus
 * sign, leading zeros for ZEROFILL); undefined for anything else. Only a
 * lookup key: leading zeros read the same, so a match is still compared.
 */
export function readLiveInteger(live: Buffer | null | undefined): number | undefined {
  if (live === null || live === undefined || live.length === 0 || live.length > 16) return undefined;
  const negative = live[0] === 0x2d;
  if (negative && live.length === 1) return undefined;
  let value = 0;
  for (let i = negative ? 1 : 0; i < live.length; i++) {
    const digit = (live[i] as number) - 48;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  if (value > Number.MAX_SAFE_INTEGER) return undefined;
  return negative ? -value : value;
}

const LIVE_TEXT_FORMS = new Set(['decimal', 'date', 'time', 'datetime', 'timestamp', 'year']);
const UTF8 = /^utf8/;

/**
 * The bytes the server sends for `value` in `column` as liveColumn reads it
 * (text protocol, time_zone '+00:00'), for types whose form is one-to-one
 * with the value, so equal bytes mean an equal value: integers, DECIMAL and
 * temporal text, strings and binary strings as stored bytes, geometry.
 * null for NULL; undefined when there is no such form here (FLOAT and
 * DOUBLE print rounded, BIT, JSON...): only the server can compare those.
 */
export function liveForm(
  table: TableFacts,
  column: ColumnFacts,
  value: Value | undefined,
): Buffer | null | undefined {
  if (
    value === undefined ||
    (value !== null && typeof value === 'object' && !(value instanceof Uint8Array))
  ) {
    return undefined;
  }
  const v = exactValue(table, column, value);
  if (v === null) return null;
  const type = column.dataType;
  if (LIVE_INTEGERS.has(type) || LIVE_TEXT_FORMS.has(type)) {
    if (type === 'year' && typeof v === 'number') return Buffer.from(String(v).padStart(4, '0'), 'latin1');
    return typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint'
      ? Buffer.from(String(v), 'latin1')
      : undefined;
  }
  if (type === 'json' || type === 'bit' || type === 'float' || type === 'double') return undefined;
  if (v instanceof Uint8Array) {
    const bytes = column.charset === undefined && !GEOMETRY_DATA_TYPES.has(type) ? padBinary(column, v) : v;
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  if (typeof v !== 'string' || column.charset === undefined) return undefined;
  if (UTF8.test(column.charset)) return Buffer.from(v, 'utf8');
  // Other charsets agree with ASCII on ASCII text; anything else would need that charset's encoder.
  for (let i = 0; i < v.length; i++) if (v.charCodeAt(i) > 0x7f) return undefined;
  return Buffer.from(v, 'latin1');
}

type Exact = null | number | bigint | string | Uint8Array;

/** The value, checked to be writable exactly; unsigned integers the reader saw as signed are corrected. */
function exactValue(table: TableFacts, column: ColumnFacts, value: Value | undefined): Exact {
  if (value === null || typeof value === 'string') return value;
  if (value === undefined) {
    const where = `${table.schema}.${table.table}.${column.name}`;
    throw new SalvageError('UNDO_NOT_EXACT', `the binlog row image lacks column ${where}`, {
      hint: 'The server logged partial row images (binlog_row_image MINIMAL or NOBLOB): the old value is unknown. Restore from a backup instead, and set binlog_row_image=FULL.',
      context: { table: `${table.schema}.${table.table}`, column: column.name },
    });
  }
  if (typeof value === 'object' && !(value instanceof Uint8Array)) {
    const where = `${table.schema}.${table.table}.${column.name}`;
    throw new SalvageError(
      'UNDO_NOT_EXACT',
      `column ${where} holds a partial JSON update whose full value is unknown`,
      {
        hint: 'Restore the table from a backup instead; set binlog_row_value_options="" to log whole JSON values.',
        context: { table: `${table.schema}.${table.table}`, column: column.name },
      },
    );
  }
  // Only a negative number can be an unsigned value read as signed: no type lookup for the rest.
  if (column.unsigned && (typeof value === 'number' || typeof value === 'bigint') && value < 0) {
    const bits = INTEGER_BITS[column.dataType];
    if (bits !== undefined) return BigInt(value) + (1n << BigInt(bits));
  }
  return value;
}

function plainLiteral(column: ColumnFacts, value: Exact): string {
  if (value === null) return 'NULL';
  if (column.dataType === 'bit') return bitLiteral(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return numberLiteral(column, value);
  if (value instanceof Uint8Array) {
    if (column.charset !== undefined) return bytesLiteral(value);
    return bytesLiteral(padBinary(column, value));
  }
  if (column.dataType === 'decimal') {
    if (!/^-?\d+(\.\d+)?$/.test(value)) throw notExact(column, `DECIMAL value ${value}`);
    return value;
  }
  if (TEMPORAL.has(column.dataType)) {
    if (!/^-?[\d :.-]+$/.test(value)) throw notExact(column, `temporal value ${value}`);
    return `'${value}'`;
  }
  if (column.charset === undefined) return bytesLiteral(padBinary(column, Buffer.from(value, 'utf8')));
  return textLiteral(value);
}

function numberLiteral(column: ColumnFacts, value: number): string {
  if (!Number.isFinite(value)) throw notExact(column, `number ${value}`);
  // An exponent makes it a DOUBLE literal: a plain 1.5 would be DECIMAL, compared and rounded differently.
  if (column.dataType === 'float' || column.dataType === 'double') {
    // The reader may print a FLOAT as its shortest float text (1.1); the column compares as the widened double.
    const text = String(column.dataType === 'float' ? Math.fround(value) : value);
    return /e/i.test(text) ? text : `${text}e0`;
  }
  return String(value);
}

/** utf8mb4 text the server converts to the column's charset. */
function textLiteral(text: string): string {
  if (isPlainText(text)) return `_utf8mb4'${text}'`;
  return `_utf8mb4 X'${Buffer.from(text, 'utf8').toString('hex')}'`;
}

/**
 * A binary string: `_binary'text'` when every byte is printable ASCII other
 * than quote and backslash (the same bytes under any sql_mode, half the size
 * of hex, and readable), else X'..'.
 */
function bytesLiteral(bytes: Uint8Array): string {
  // Checked on the bytes before any text is made.
  if (!isPlainBinary(bytes)) return hexLiteral(bytes);
  const buffer = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return `${BINARY_OPEN}${buffer.toString('latin1')}'`;
}

function bitLiteral(value: Exact): string {
  if (typeof value === 'number' || typeof value === 'bigint') return `b'${BigInt(value).toString(2)}'`;
  if (value instanceof Uint8Array) {
    let bits = '';
    for (const byte of value) bits += byte.toString(2).padStart(8, '0');
    return `b'${bits.replace(/^0+(?=.)/, '') || '0'}'`;
  }
  throw new SalvageError('UNDO_NOT_EXACT', `BIT column ${value} is not a bit value`);
}

/** The server stores BINARY(n) padded with zero bytes and the binlog drops them; comparisons need them back. */
function padBinary(column: ColumnFacts, bytes: Uint8Array): Uint8Array {
  const match = /^binary\((\d+)\)/i.exec(column.columnType);
  const length = match ? Number(match[1]) : 0;
  if (bytes.length >= length) return bytes;
  const padded = Buffer.alloc(length);
  padded.set(bytes);
  return padded;
}

/** The stored form is a 4-byte little-endian SRID followed by the WKB. */
function geometryLiteral(bytes: Uint8Array): string {
  const buffer = Buffer.from(bytes);
  if (buffer.length < 5)
    throw new SalvageError('UNDO_NOT_EXACT', `a geometry value of ${buffer.length} bytes is not valid`);
  return `ST_GeomFromWKB(${hexLiteral(buffer.subarray(4))}, ${buffer.readUInt32LE(0)})`;
}

function notExact(column: ColumnFacts, what: string): SalvageError {
  return new SalvageError(
    'UNDO_NOT_EXACT',
    `cannot write ${what} into ${column.name} (${column.columnType}) exactly`,
    {
      context: { column: column.name },
    },
  );
}
