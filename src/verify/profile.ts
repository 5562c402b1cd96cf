/**
 * Column profiles for anomaly detection: per column the NULL count (exact)
 * and the number of distinct values. On large tables distinct values are
 * counted over a fixed sample: the rows whose key hashes to 0 modulo
 * `sampleModulus`. The baseline records the modulus, and detect counts with
 * the same one, so the same rows are sampled both times and the counts are
 * comparable even though they are approximate.
 */
import { type Connection, queryRows, quoteIdentifier, type TableShape } from '../mysql/index.js';
import type { ChunkKey } from './chunks.js';
import { hashedColumns, rowHashSql } from './row-hash.js';
import { quoteTable, type TableRef } from './tables.js';

export interface ColumnProfile {
  readonly name: string;
  readonly nulls: number;
  /** nulls / rows, 0 for an empty table. */
  readonly null_rate: number;
  /** Distinct non-NULL values (in the sample when the table's profile is sampled). */
  readonly distinct: number;
}

export interface TableProfile {
  readonly rows: number;
  /** 1: distinct counts are exact; n > 1: counted over about 1/n of the rows. */
  readonly sample_modulus: number;
  readonly columns: readonly ColumnProfile[];
}

/** Tables with more rows than this get a sampled distinct count. */
export const EXACT_PROFILE_ROWS = 100_000;

export function sampleModulusFor(estimatedRows: number): number {
  return Math.max(1, Math.ceil(estimatedRows / EXACT_PROFILE_ROWS));
}

export async function profileTable(
  conn: Connection,
  ref: TableRef,
  shape: TableShape,
  key: ChunkKey,
  sampleModulus: number,
): Promise<TableProfile> {
  const sampled =
    sampleModulus > 1
      ? `MOD(${key.kind === 'none' ? rowHashSql(hashedColumns(shape.columns)) : `CRC32(CONCAT_WS('#', ${key.columns.map(quoteIdentifier).join(', ')}))`}, ${sampleModulus}) = 0`
      : undefined;
  const items = shape.columns.flatMap((column, i) => {
    const name = quoteIdentifier(column.name);
    return [
      `SUM(${name} IS NULL) AS n${i}`,
      `COUNT(DISTINCT ${sampled ? `IF(${sampled}, ${name}, NULL)` : name}) AS d${i}`,
    ];
  });
  const [row] = await queryRows(
    conn,
    `SELECT COUNT(*) AS salvage_rows, ${items.join(', ')} FROM ${quoteTable(ref)}`,
  );
  const rows = Number(row?.salvage_rows ?? 0);
  return {
    rows,
    sample_modulus: sampleModulus,
    columns: shape.columns.map((column, i) => {
      const nulls = Number(row?.[`n${i}`] ?? 0);
      return {
        name: column.name,
        nulls,
        null_rate: rows === 0 ? 0 : nulls / rows,
        distinct: Number(row?.[`d${i}`] ?? 0),
      };
    }),
  };
}
