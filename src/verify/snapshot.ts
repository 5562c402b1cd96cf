/**
 * `salvage snapshot`: measuring every table of a server into a baseline.
 * measureTable is also how detect measures the server now, with the
 * baseline's chunk bounds and sample modulus so the numbers compare.
 */
import { type ConnectTarget, describeTarget } from '../mysql/index.js';
import type { Baseline, BaselineTable } from './baseline.js';
import { checksumChunk, combineChecksums, type TableChecksumPlan } from './checksum.js';
import {
  type Chunk,
  type ChunkPlan,
  chooseChunkKey,
  decodeKeyValue,
  encodeKeyValue,
  planChunks,
} from './chunks.js';
import { openSnapshotPool, type SnapshotPool } from './pool.js';
import { profileTable, sampleModulusFor } from './profile.js';
import { hashedColumns } from './row-hash.js';
import { columnSignatures, readTableSchema } from './schema.js';
import { type ListedTable, listTables, type TableFilter, tableName } from './tables.js';
import { DEFAULT_CHUNK_ROWS } from './verify.js';

export interface SnapshotOptions {
  readonly source: ConnectTarget;
  readonly tables?: TableFilter;
  readonly chunkRows?: number;
  readonly parallel?: number;
  readonly onProgress?: (message: string) => void;
}

export async function takeSnapshot(options: SnapshotOptions): Promise<Baseline> {
  const pool = await openSnapshotPool(options.source, options.parallel ?? 2);
  try {
    const listed = await pool.run((conn) => listTables(conn, options.tables));
    const tables = await Promise.all(
      listed.map(async (table) => {
        const measured = await measureTable(pool, table, {
          chunkRows: options.chunkRows ?? DEFAULT_CHUNK_ROWS,
        });
        options.onProgress?.(`${measured?.table ?? tableName(table)}: ${measured?.rows ?? 0} rows`);
        return measured;
      }),
    );
    const present = tables.filter((t): t is BaselineTable => t !== undefined);
    return {
      format: 'salvage-baseline',
      version: 1,
      taken_at: new Date().toISOString(),
      server: describeTarget(options.source),
      notes: notesFor(present),
      tables: present,
    };
  } finally {
    await pool.close();
  }
}

function notesFor(tables: readonly BaselineTable[]): string[] {
  const notes: string[] = [];
  const sampled = tables.filter((t) => t.profile.sample_modulus > 1).map((t) => t.table);
  if (sampled.length > 0) {
    notes.push(
      `distinct counts are approximate (counted over a fixed sample of rows) for: ${sampled.join(', ')}`,
    );
  }
  const keyless = tables.filter((t) => t.chunking.key.kind === 'none').map((t) => t.table);
  if (keyless.length > 0) {
    notes.push(`no primary or unique NOT NULL key, one whole-table checksum for: ${keyless.join(', ')}`);
  }
  return notes;
}

/** How to measure a table again exactly as a baseline did. */
export interface MeasureOptions {
  readonly chunkRows: number;
  /** The baseline's entry: its chunk bounds and sample modulus are reused when the schema is unchanged. */
  readonly like?: BaselineTable;
}

/** The table's baseline entry as of now; undefined when it no longer exists. */
export async function measureTable(
  pool: SnapshotPool,
  table: ListedTable,
  options: MeasureOptions,
): Promise<BaselineTable | undefined> {
  const schema = await pool.run((conn) => readTableSchema(conn, table));
  if (schema === undefined) return undefined;
  const { shape } = schema;
  const like = options.like?.fingerprint === schema.fingerprint ? options.like : undefined;
  const key = chooseChunkKey(shape, new Set(shape.columns.map((c) => c.name)));
  const chunking: ChunkPlan =
    like?.chunking.chunks != null
      ? {
          key,
          method: like.chunking.method,
          boundColumns: like.chunking.bound_columns,
          chunks: like.chunking.chunks.map(decodeChunk),
        }
      : like !== undefined
        ? { key, method: 'single', boundColumns: [], chunks: [{ lower: null, upper: null }] }
        : await pool.run((conn) =>
            planChunks(conn, table, shape, key, table.estimatedRows, options.chunkRows),
          );
  // One server measured against itself later: doubles as the server prints them.
  const plan: TableChecksumPlan = {
    ref: table,
    columns: hashedColumns(shape.columns),
    chunking,
    portableFloats: false,
  };
  const sampleModulus = options.like?.profile.sample_modulus ?? sampleModulusFor(table.estimatedRows);
  const [sums, profile] = await Promise.all([
    Promise.all(chunking.chunks.map((chunk) => pool.run((conn) => checksumChunk(conn, plan, chunk)))),
    pool.run((conn) => profileTable(conn, table, shape, key, sampleModulus)),
  ]);
  const total = combineChecksums(sums);
  return {
    table: tableName(table),
    schema: table.schema,
    name: table.table,
    rows: total.rows,
    checksum: total.checksum,
    fingerprint: schema.fingerprint,
    columns: columnSignatures(shape),
    indexes: schema.indexes.map((i) => ({ name: i.name, unique: i.unique, columns: [...i.columns] })),
    chunking: {
      key: { kind: key.kind, columns: key.kind === 'none' ? [] : [...key.columns] },
      method: chunking.method,
      bound_columns: [...chunking.boundColumns],
      chunks:
        chunking.chunks.length > 1
          ? chunking.chunks.map((chunk, i) => ({
              lower: chunk.lower?.map(encodeKeyValue) ?? null,
              upper: chunk.upper?.map(encodeKeyValue) ?? null,
              rows: sums[i]!.rows,
              checksum: sums[i]!.checksum,
            }))
          : null,
    },
    profile: { ...profile, columns: [...profile.columns] },
  };
}

function decodeChunk(entry: NonNullable<BaselineTable['chunking']['chunks']>[number]): Chunk {
  return { lower: entry.lower?.map(decodeKeyValue) ?? null, upper: entry.upper?.map(decodeKeyValue) ?? null };
}
