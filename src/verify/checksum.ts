/**
 * Checksums of chunks, computed on the server: COUNT(*) and the SUM of the
 * rows' CRC32 (a sum, unlike BIT_XOR, does not cancel out duplicate rows in
 * a table without a key). A changed row goes unnoticed only if its CRC32
 * collides, about one chance in four billion.
 */
import { type ColumnShape, type Connection, queryRows, quoteIdentifier } from '../mysql/index.js';
import { type Chunk, type ChunkPlan, chunkCondition, type KeyValue } from './chunks.js';
import { rowHashSql } from './row-hash.js';
import { quoteTable, type TableRef } from './tables.js';

/** What to hash in a table and how it is chunked. */
export interface TableChecksumPlan {
  readonly ref: TableRef;
  /** The columns hashed, by name, in the source's order. */
  readonly columns: readonly ColumnShape[];
  readonly chunking: ChunkPlan;
  /** Render doubles exactly (servers of different flavor or version); see row-hash.ts. */
  readonly portableFloats: boolean;
}

export interface ChunkChecksum {
  readonly rows: number;
  /** The sum of the rows' CRC32, as a decimal string. */
  readonly checksum: string;
}

export async function checksumChunk(
  conn: Connection,
  plan: TableChecksumPlan,
  chunk: Chunk,
): Promise<ChunkChecksum> {
  const where = chunkCondition(plan.chunking.boundColumns, chunk);
  const [row] = await queryRows(
    conn,
    `SELECT COUNT(*) AS n, CAST(COALESCE(SUM(${rowHashSql(plan.columns, plan.portableFloats)}), 0) AS CHAR) AS s
       FROM ${quoteTable(plan.ref)} WHERE ${where.sql}`,
    where.params,
  );
  return { rows: Number(row?.n ?? 0), checksum: String(row?.s ?? '0') };
}

/** The whole table's checksum from its chunks'. */
export function combineChecksums(chunks: readonly ChunkChecksum[]): ChunkChecksum {
  let rows = 0;
  let sum = 0n;
  for (const chunk of chunks) {
    rows += chunk.rows;
    sum += BigInt(chunk.checksum);
  }
  return { rows, checksum: sum.toString() };
}

export function sameChecksum(a: ChunkChecksum, b: ChunkChecksum): boolean {
  return a.rows === b.rows && a.checksum === b.checksum;
}

/** One row of a chunk: its key values and its hash. */
export interface RowDigest {
  readonly key: readonly KeyValue[];
  readonly hash: number;
}

/** Every row of a chunk as key → hash, keyed by the key's JSON text. Needs a key. */
export async function rowDigests(
  conn: Connection,
  plan: TableChecksumPlan,
  chunk: Chunk,
): Promise<Map<string, RowDigest>> {
  const { key } = plan.chunking;
  if (key.kind === 'none') return new Map();
  const where = chunkCondition(plan.chunking.boundColumns, chunk);
  const rows = await queryRows(
    conn,
    `SELECT ${key.columns.map(quoteIdentifier).join(', ')}, ${rowHashSql(plan.columns, plan.portableFloats)} AS salvage_row_hash
       FROM ${quoteTable(plan.ref)} WHERE ${where.sql}`,
    where.params,
  );
  const digests = new Map<string, RowDigest>();
  for (const row of rows) {
    const values = key.columns.map((c) => row[c] as KeyValue);
    digests.set(keyText(values), { key: values, hash: Number(row.salvage_row_hash) });
  }
  return digests;
}

function keyText(values: readonly KeyValue[]): string {
  return JSON.stringify(values.map((v) => (Buffer.isBuffer(v) ? { hex: v.toString('hex') } : v)));
}

/**
 * CHECKSUM TABLE and COUNT(*): the server's own whole-table checksum, several
 * times faster than any SQL expression per row. Its value depends on the
 * server's record format, so it is compared only between servers of the same
 * flavor and version, with the same table definition.
 */
export async function nativeChecksum(conn: Connection, ref: TableRef): Promise<ChunkChecksum> {
  const [sum] = await queryRows(conn, `CHECKSUM TABLE ${quoteTable(ref)}`);
  return { rows: await countRows(conn, ref), checksum: String(sum?.Checksum ?? '') };
}

export async function countRows(conn: Connection, ref: TableRef): Promise<number> {
  const [count] = await queryRows(conn, `SELECT COUNT(*) AS n FROM ${quoteTable(ref)}`);
  return Number(count?.n ?? 0);
}
