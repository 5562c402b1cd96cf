/**
 * A table's schema as verify and detect compare it: the columns (with types,
 * nullability, character set) and every index, plus a fingerprint that
 * changes when any of them does.
 */
import { createHash } from 'node:crypto';
import { type Connection, describeTable, queryRows, type TableShape } from '../mysql/index.js';
import type { TableRef } from './tables.js';

export interface IndexShape {
  readonly name: string;
  readonly unique: boolean;
  readonly columns: readonly string[];
}

export interface TableSchema {
  readonly shape: TableShape;
  readonly indexes: readonly IndexShape[];
  /** sha256 of the columns and indexes; equal schemas have equal fingerprints. */
  readonly fingerprint: string;
}

/** The table's schema, or undefined when it does not exist. */
export async function readTableSchema(conn: Connection, ref: TableRef): Promise<TableSchema | undefined> {
  const shape = await describeTable(conn, ref.schema, ref.table);
  if (shape === undefined) return undefined;
  const rows = await queryRows(
    conn,
    `SELECT INDEX_NAME AS name, NON_UNIQUE AS nonUnique, COLUMN_NAME AS col
       FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
      ORDER BY INDEX_NAME, SEQ_IN_INDEX`,
    [ref.schema, ref.table],
  );
  const byName = new Map<string, { unique: boolean; columns: string[] }>();
  for (const row of rows) {
    const name = String(row.name);
    const index = byName.get(name) ?? { unique: Number(row.nonUnique) === 0, columns: [] };
    index.columns.push(String(row.col));
    byName.set(name, index);
  }
  const indexes = [...byName].map(([name, index]) => ({ name, ...index }));
  return { shape, indexes, fingerprint: fingerprintOf(shape, indexes) };
}

/** One column as the fingerprint and the schema comparison see it. */
export interface ColumnSignature {
  readonly name: string;
  readonly type: string;
  readonly nullable: boolean;
  readonly charset: string | null;
}

export function columnSignatures(shape: TableShape): ColumnSignature[] {
  return shape.columns.map((c) => ({
    name: c.name,
    type: c.columnType.toLowerCase(),
    nullable: c.nullable,
    charset: c.charset ?? null,
  }));
}

function fingerprintOf(shape: TableShape, indexes: readonly IndexShape[]): string {
  return createHash('sha256')
    .update(JSON.stringify({ columns: columnSignatures(shape), indexes }))
    .digest('hex');
}

/** What differs between two versions of a table's columns. */
export interface SchemaDifference {
  readonly kind: 'column_missing' | 'column_added' | 'column_changed' | 'indexes_changed';
  readonly column?: string;
  /** For column_changed: the signature on each side ("int(11) NOT NULL"). */
  readonly before?: string;
  readonly after?: string;
}

/**
 * The differences from `before` (source, baseline) to `after` (target, now).
 * Column order is not compared: data is matched by column name.
 */
export function diffColumns(
  before: readonly ColumnSignature[],
  after: readonly ColumnSignature[],
  indexesBefore?: readonly IndexShape[],
  indexesAfter?: readonly IndexShape[],
): SchemaDifference[] {
  const differences: SchemaDifference[] = [];
  const afterByName = new Map(after.map((c) => [c.name.toLowerCase(), c]));
  const beforeNames = new Set(before.map((c) => c.name.toLowerCase()));
  for (const column of before) {
    const other = afterByName.get(column.name.toLowerCase());
    if (other === undefined) differences.push({ kind: 'column_missing', column: column.name });
    else if (describeColumn(column) !== describeColumn(other)) {
      differences.push({
        kind: 'column_changed',
        column: column.name,
        before: describeColumn(column),
        after: describeColumn(other),
      });
    }
  }
  for (const column of after) {
    if (!beforeNames.has(column.name.toLowerCase()))
      differences.push({ kind: 'column_added', column: column.name });
  }
  if (indexesBefore && indexesAfter && indexKey(indexesBefore) !== indexKey(indexesAfter)) {
    differences.push({
      kind: 'indexes_changed',
      before: indexKey(indexesBefore),
      after: indexKey(indexesAfter),
    });
  }
  return differences;
}

function describeColumn(column: ColumnSignature): string {
  return `${column.type}${column.nullable ? '' : ' NOT NULL'}${column.charset ? ` CHARACTER SET ${column.charset}` : ''}`;
}

function indexKey(indexes: readonly IndexShape[]): string {
  return [...indexes]
    .map((i) => `${i.unique ? 'UNIQUE ' : ''}${i.name}(${i.columns.join(',')})`)
    .sort()
    .join('; ');
}
