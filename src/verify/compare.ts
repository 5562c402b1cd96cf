/**
 * Comparing one table across two servers: schema, row counts and chunk
 * checksums, then narrowing a difference to chunks and, inside the first
 * differing chunks, to sample keys (each side's key → row hash, diffed).
 */
import {
  checksumChunk,
  combineChecksums,
  countRows,
  nativeChecksum,
  rowDigests,
  sameChecksum,
  type TableChecksumPlan,
} from './checksum.js';
import {
  type ChunkKey,
  type ChunkPlan,
  chooseChunkKey,
  type EncodedKeyValue,
  encodeKeyValue,
  type KeyValue,
  planChunks,
} from './chunks.js';
import type { SnapshotPool } from './pool.js';
import { hashedColumns } from './row-hash.js';
import { columnSignatures, diffColumns, type SchemaDifference, type TableSchema } from './schema.js';
import { type TableRef, tableName } from './tables.js';

export type TableStatus = 'equal' | 'differs' | 'schema_differs' | 'missing_on_target' | 'missing_on_source';

/** A row that differs, by its key. */
export interface SampleKey {
  readonly key: Readonly<Record<string, EncodedKeyValue>>;
  /** changed: both have the key with different values; missing/extra: only the source/target has it. */
  readonly kind: 'changed' | 'missing_on_target' | 'extra_on_target';
}

export interface TableComparison {
  readonly table: string;
  readonly status: TableStatus;
  readonly rows: { readonly source: number | null; readonly target: number | null };
  readonly checksum: { readonly source: string | null; readonly target: string | null };
  /** What the chunks are keyed on; kind none means one whole-table checksum. */
  readonly chunk_key: { readonly kind: ChunkKey['kind']; readonly columns: readonly string[] };
  /** checksum-table: equal by the servers' CHECKSUM TABLE, no chunks read. */
  readonly chunk_method: ChunkPlan['method'] | 'checksum-table' | null;
  readonly chunks: number;
  readonly chunks_differing: number;
  readonly sample_keys: readonly SampleKey[];
  readonly schema_differences: readonly SchemaDifference[];
  readonly notes: readonly string[];
}

export interface CompareOptions {
  /** Rows per chunk to aim at. */
  readonly chunkRows: number;
  /** At most this many sample keys per table. */
  readonly sampleKeys: number;
  /**
   * Both servers are of the same flavor and version: CHECKSUM TABLE values
   * compare, and doubles can be hashed as the server prints them.
   */
  readonly sameVersion: boolean;
}

/** How many differing chunks are opened to find sample keys. */
const CHUNKS_NARROWED = 3;

export async function compareTable(
  source: SnapshotPool,
  target: SnapshotPool,
  ref: TableRef,
  schemas: { readonly source: TableSchema | undefined; readonly target: TableSchema | undefined },
  estimatedRows: number,
  options: CompareOptions,
): Promise<TableComparison> {
  const name = tableName(ref);
  if (schemas.source === undefined || schemas.target === undefined) {
    const missingOnTarget = schemas.target === undefined;
    const present = missingOnTarget ? source : target;
    const rows = await present.run((conn) => countRows(conn, ref));
    return {
      ...emptyComparison(name, missingOnTarget ? 'missing_on_target' : 'missing_on_source'),
      rows: missingOnTarget ? { source: rows, target: null } : { source: null, target: rows },
      notes: [`the table exists only on the ${missingOnTarget ? 'source' : 'target'}`],
    };
  }
  const sourceShape = schemas.source.shape;
  const differences = diffColumns(
    columnSignatures(sourceShape),
    columnSignatures(schemas.target.shape),
    schemas.source.indexes,
    schemas.target.indexes,
  );
  const changed = new Set(differences.map((d) => d.column).filter(Boolean));
  const targetNames = new Set(schemas.target.shape.columns.map((c) => c.name));
  const usable = sourceShape.columns.filter((c) => targetNames.has(c.name) && !changed.has(c.name));
  const key = chooseChunkKey(sourceShape, new Set(usable.map((c) => c.name)));
  if (options.sameVersion && differences.length === 0) {
    // The fast path: equal tables cost one CHECKSUM TABLE per server; only a difference is chunked.
    const [a, b] = await Promise.all([
      source.run((conn) => nativeChecksum(conn, ref)),
      target.run((conn) => nativeChecksum(conn, ref)),
    ]);
    if (sameChecksum(a, b) && a.checksum !== '') {
      return {
        ...emptyComparison(name, 'equal'),
        rows: { source: a.rows, target: b.rows },
        checksum: { source: a.checksum, target: b.checksum },
        chunk_key: { kind: key.kind, columns: key.kind === 'none' ? [] : key.columns },
        chunk_method: 'checksum-table',
        chunks: 1,
        notes: ['equal by CHECKSUM TABLE (same server version on both sides); no chunking needed'],
      };
    }
  }
  const chunking = await source.run((conn) =>
    planChunks(conn, ref, sourceShape, key, estimatedRows, options.chunkRows),
  );
  const plan: TableChecksumPlan = {
    ref,
    columns: hashedColumns(usable),
    chunking,
    portableFloats: !options.sameVersion,
  };
  const [sourceSums, targetSums] = await Promise.all([
    Promise.all(chunking.chunks.map((chunk) => source.run((conn) => checksumChunk(conn, plan, chunk)))),
    Promise.all(chunking.chunks.map((chunk) => target.run((conn) => checksumChunk(conn, plan, chunk)))),
  ]);
  const differing = chunking.chunks
    .map((chunk, index) => ({ chunk, index }))
    .filter(({ index }) => !sameChecksum(sourceSums[index]!, targetSums[index]!));
  const samples: SampleKey[] = [];
  for (const { chunk } of differing.slice(0, CHUNKS_NARROWED)) {
    if (samples.length >= options.sampleKeys || key.kind === 'none') break;
    const [a, b] = await Promise.all([
      source.run((conn) => rowDigests(conn, plan, chunk)),
      target.run((conn) => rowDigests(conn, plan, chunk)),
    ]);
    samples.push(...diffDigests(key.columns, a, b, options.sampleKeys - samples.length));
  }
  const totals = { source: combineChecksums(sourceSums), target: combineChecksums(targetSums) };
  return {
    table: name,
    status: differences.length > 0 ? 'schema_differs' : differing.length > 0 ? 'differs' : 'equal',
    rows: { source: totals.source.rows, target: totals.target.rows },
    checksum: { source: totals.source.checksum, target: totals.target.checksum },
    chunk_key: { kind: key.kind, columns: key.kind === 'none' ? [] : key.columns },
    chunk_method: chunking.method,
    chunks: chunking.chunks.length,
    chunks_differing: differing.length,
    sample_keys: samples,
    schema_differences: differences,
    notes: notesFor(key, usable.length, sourceShape.columns.length, differing.length),
  };
}

function notesFor(key: ChunkKey, usable: number, all: number, differing: number): string[] {
  const notes: string[] = [];
  if (key.kind === 'none') {
    notes.push(
      'no primary key or unique NOT NULL key: compared as one whole-table checksum' +
        (differing > 0 ? '; differing rows cannot be named by key' : ''),
    );
  } else if (key.kind === 'unique') {
    notes.push(`no usable primary key: chunked and keyed by the unique key (${key.columns.join(', ')})`);
  }
  if (usable < all)
    notes.push(`data compared on the ${usable} of ${all} columns both servers have with the same type`);
  return notes;
}

function diffDigests(
  columns: readonly string[],
  source: Map<string, { key: readonly KeyValue[]; hash: number }>,
  target: Map<string, { key: readonly KeyValue[]; hash: number }>,
  limit: number,
): SampleKey[] {
  const samples: SampleKey[] = [];
  const keyObject = (values: readonly KeyValue[]): Record<string, EncodedKeyValue> =>
    Object.fromEntries(columns.map((c, i) => [c, encodeKeyValue(values[i] ?? null)]));
  for (const [text, row] of source) {
    if (samples.length >= limit) return samples;
    const other = target.get(text);
    if (other === undefined) samples.push({ key: keyObject(row.key), kind: 'missing_on_target' });
    else if (other.hash !== row.hash) samples.push({ key: keyObject(row.key), kind: 'changed' });
  }
  for (const [text, row] of target) {
    if (samples.length >= limit) return samples;
    if (!source.has(text)) samples.push({ key: keyObject(row.key), kind: 'extra_on_target' });
  }
  return samples;
}

function emptyComparison(table: string, status: TableStatus): TableComparison {
  return {
    table,
    status,
    rows: { source: null, target: null },
    checksum: { source: null, target: null },
    chunk_key: { kind: 'none', columns: [] },
    chunk_method: null,
    chunks: 0,
    chunks_differing: 0,
    sample_keys: [],
    schema_differences: [],
    notes: [],
  };
}
