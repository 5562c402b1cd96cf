/**
 * Splitting a table into chunks by key ranges. The key is the primary key,
 * else the first unique key whose columns are all NOT NULL; a table with
 * neither is one chunk (a whole-table checksum), and the report says so.
 *
 * Boundaries are taken from one server and applied to both, so chunk i on
 * the source and chunk i on the target cover the same key range. The first
 * chunk has no lower bound and the last none above: rows the other server
 * has outside the first server's key range still land in a chunk.
 */
import {
  type ColumnShape,
  type Connection,
  INTEGER_DATA_TYPES,
  queryRows,
  quoteIdentifier,
  type TableShape,
} from '../mysql/index.js';
import { quoteTable, type TableRef } from './tables.js';

/** A key column's value as the driver returns it (BIGINT and DECIMAL as strings, bytes as a Buffer). */
export type KeyValue = string | number | Buffer | null;

export type ChunkKey =
  | { readonly kind: 'primary' | 'unique'; readonly name: string; readonly columns: readonly string[] }
  | { readonly kind: 'none' };

/** A key range: lower bound inclusive, upper exclusive; null means unbounded. */
export interface Chunk {
  readonly lower: readonly KeyValue[] | null;
  readonly upper: readonly KeyValue[] | null;
}

export interface ChunkPlan {
  readonly key: ChunkKey;
  /**
   * How the ranges were found: integer ranges of the first key column from
   * MIN/MAX (no scan), walking the key every `chunkRows` rows, or one chunk.
   */
  readonly method: 'integer-range' | 'key-walk' | 'single';
  /** The key columns the bounds are on (the first key column only for integer ranges). */
  readonly boundColumns: readonly string[];
  readonly chunks: readonly Chunk[];
}

/**
 * The key to chunk and to identify rows by. Only columns in `usable` (the
 * columns both servers have with the same type) may take part.
 */
export function chooseChunkKey(shape: TableShape, usable: ReadonlySet<string>): ChunkKey {
  const allUsable = (columns: readonly string[]): boolean => columns.every((c) => usable.has(c));
  if (shape.primaryKey.length > 0 && allUsable(shape.primaryKey)) {
    return { kind: 'primary', name: 'PRIMARY', columns: shape.primaryKey };
  }
  const notNull = new Set(shape.columns.filter((c) => !c.nullable).map((c) => c.name));
  const unique = shape.uniqueKeys.find((cols) => allUsable(cols) && cols.every((c) => notNull.has(c)));
  return unique ? { kind: 'unique', name: unique.join(','), columns: unique } : { kind: 'none' };
}

/**
 * The chunks of a table of about `estimatedRows` rows, aiming at `chunkRows`
 * rows each. Small tables and tables without a usable key are one chunk.
 */
export async function planChunks(
  conn: Connection,
  ref: TableRef,
  shape: TableShape,
  key: ChunkKey,
  estimatedRows: number,
  chunkRows: number,
): Promise<ChunkPlan> {
  const single: ChunkPlan = {
    key,
    method: 'single',
    boundColumns: [],
    chunks: [{ lower: null, upper: null }],
  };
  if (key.kind === 'none' || estimatedRows <= chunkRows * 1.5) return single;
  const first = shape.columns.find((c) => c.name === key.columns[0]) as ColumnShape;
  if (INTEGER_DATA_TYPES.has(first.dataType)) {
    return (await integerRanges(conn, ref, key, first, Math.ceil(estimatedRows / chunkRows))) ?? single;
  }
  return keyWalk(conn, ref, key, chunkRows);
}

const MAX_CHUNKS = 10_000;

/** Equal-width ranges of the first key column between its MIN and MAX: two index dives, no scan. */
async function integerRanges(
  conn: Connection,
  ref: TableRef,
  key: Extract<ChunkKey, { columns: readonly string[] }>,
  first: ColumnShape,
  wanted: number,
): Promise<ChunkPlan | undefined> {
  const column = quoteIdentifier(first.name);
  const [row] = await queryRows(
    conn,
    `SELECT CAST(MIN(${column}) AS CHAR) AS lo, CAST(MAX(${column}) AS CHAR) AS hi FROM ${quoteTable(ref)}`,
  );
  if (row?.lo == null || row.hi == null) return undefined;
  const lo = BigInt(String(row.lo));
  const hi = BigInt(String(row.hi));
  const span = hi - lo + 1n;
  const count = BigInt(Math.min(wanted, MAX_CHUNKS)) < span ? BigInt(Math.min(wanted, MAX_CHUNKS)) : span;
  if (count <= 1n) return undefined;
  const step = (span + count - 1n) / count;
  const bounds: KeyValue[] = [];
  for (let at = lo + step; at <= hi; at += step) bounds.push(integerParam(at));
  return {
    key,
    method: 'integer-range',
    boundColumns: [first.name],
    chunks: chunksBetween(bounds.map((b) => [b])),
  };
}

/**
 * A number when exact as one: an integer column compared with a quoted string
 * is compared as a double. Beyond 2^53 the string stays; the comparison is
 * then inexact but the same on both servers, so every row still falls in
 * exactly one chunk.
 */
function integerParam(value: bigint): KeyValue {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value.toString();
}

/** Walks the key, reading the key value every `chunkRows` rows, for keys that are not integers. */
async function keyWalk(
  conn: Connection,
  ref: TableRef,
  key: Extract<ChunkKey, { columns: readonly string[] }>,
  chunkRows: number,
): Promise<ChunkPlan> {
  const columns = key.columns.map(quoteIdentifier).join(', ');
  const bounds: KeyValue[][] = [];
  for (;;) {
    const last = bounds.at(-1);
    const where = last ? keyAtLeast(key.columns, last) : undefined;
    const rows = await queryRows(
      conn,
      `SELECT ${columns} FROM ${quoteTable(ref)}${where ? ` WHERE ${where.sql}` : ''}
        ORDER BY ${columns} LIMIT 1 OFFSET ${chunkRows}`,
      where?.params ?? [],
    );
    const row = rows[0];
    if (row === undefined || bounds.length >= MAX_CHUNKS) break;
    bounds.push(key.columns.map((c) => row[c] as KeyValue));
  }
  if (bounds.length === 0) {
    return { key, method: 'single', boundColumns: [], chunks: [{ lower: null, upper: null }] };
  }
  return { key, method: 'key-walk', boundColumns: key.columns, chunks: chunksBetween(bounds) };
}

function chunksBetween(bounds: readonly (readonly KeyValue[])[]): Chunk[] {
  const chunks: Chunk[] = [];
  let lower: readonly KeyValue[] | null = null;
  for (const bound of bounds) {
    chunks.push({ lower, upper: bound });
    lower = bound;
  }
  chunks.push({ lower, upper: null });
  return chunks;
}

/** A WHERE fragment with its parameters. */
export interface Condition {
  readonly sql: string;
  readonly params: readonly KeyValue[];
}

/** The condition selecting the rows of a chunk ("1" for an unbounded one). */
export function chunkCondition(columns: readonly string[], chunk: Chunk): Condition {
  const parts: Condition[] = [];
  if (chunk.lower) parts.push(keyAtLeast(columns, chunk.lower));
  if (chunk.upper) parts.push(keyBelow(columns, chunk.upper));
  if (parts.length === 0) return { sql: '1', params: [] };
  return { sql: parts.map((p) => `(${p.sql})`).join(' AND '), params: parts.flatMap((p) => p.params) };
}

/**
 * (k1, k2, ...) >= (v1, v2, ...) written out as nested OR/AND: both servers'
 * range optimizers turn that into an index range, which they do not always
 * do for a row-constructor comparison.
 */
function keyAtLeast(columns: readonly string[], values: readonly KeyValue[]): Condition {
  return lexicographic(columns, values, '>', '>=');
}

function keyBelow(columns: readonly string[], values: readonly KeyValue[]): Condition {
  return lexicographic(columns, values, '<', '<');
}

function lexicographic(
  columns: readonly string[],
  values: readonly KeyValue[],
  strict: string,
  last: string,
): Condition {
  const name = quoteIdentifier(columns[0]!);
  if (columns.length === 1) return { sql: `${name} ${last} ?`, params: [values[0]!] };
  const rest = lexicographic(columns.slice(1), values.slice(1), strict, last);
  return {
    sql: `${name} ${strict} ? OR (${name} = ? AND (${rest.sql}))`,
    params: [values[0]!, values[0]!, ...rest.params],
  };
}

/** A key value as JSON can carry it: bytes as {"hex": "..."}. */
export type EncodedKeyValue = string | number | null | { readonly hex: string };

export function encodeKeyValue(value: KeyValue): EncodedKeyValue {
  return Buffer.isBuffer(value) ? { hex: value.toString('hex') } : value;
}

export function decodeKeyValue(value: EncodedKeyValue): KeyValue {
  return value !== null && typeof value === 'object' ? Buffer.from(value.hex, 'hex') : value;
}
