/**
 * A binlog table as salvage can write it back: the TABLE_MAP's columns joined
 * with the live schema (names, exact types, charsets), and the key that
 * addresses one row. Refuses tables whose live shape no longer matches the
 * binlog, because values would land in the wrong columns.
 */

import type { TableMap } from '../binlog/types.js';
import { SalvageError } from '../errors.js';
import { type Connection, describeTable, type TableShape } from '../mysql/index.js';

/** One column: its position in row images and what the server says it is now. */
export interface ColumnFacts {
  /** Position in the binlog row image (0-based). */
  readonly index: number;
  readonly name: string;
  /** DATA_TYPE, lower case: int, varchar, decimal, json, geometry... */
  readonly dataType: string;
  /** COLUMN_TYPE: "int(10) unsigned", "binary(16)", "enum('a','b')". */
  readonly columnType: string;
  readonly unsigned: boolean;
  /** Character set of text columns; undefined for every other column. */
  readonly charset: string | undefined;
  /** Generated columns are compared but never written. */
  readonly generated: boolean;
}

/** How a row is found again: by a key, or by matching every column (no key). */
export type RowAddress =
  | { readonly kind: 'primary' | 'unique'; readonly columns: readonly number[] }
  | { readonly kind: 'row' };

export interface TableFacts {
  readonly schema: string;
  readonly table: string;
  readonly columns: readonly ColumnFacts[];
  readonly address: RowAddress;
  /** The unique keys other than the address, as column indexes: a row written back must not clash with them. */
  readonly uniqueKeys: readonly (readonly number[])[];
}

/** `schema.table` for messages and maps. */
export function tableName(table: {
  readonly database?: string;
  readonly schema?: string;
  readonly table: string;
}): string {
  return `${table.schema ?? table.database}.${table.table}`;
}

/**
 * The facts of the table a TABLE_MAP describes, checked against the live
 * schema: a dropped table or a changed column count is refused.
 */
export function joinTableFacts(map: TableMap, shape: TableShape | undefined): TableFacts {
  const name = `${map.database}.${map.table}`;
  if (shape === undefined) {
    throw new SalvageError('BAD_INPUT', `table ${name} no longer exists on the server`, {
      hint: 'Its rows cannot be written back in place. Restore the table to a sandbox with `salvage restore --tables` and copy it back.',
      context: { table: name },
    });
  }
  if (shape.columns.length !== map.columns.length) {
    throw new SalvageError(
      'BAD_INPUT',
      `table ${name} has ${shape.columns.length} columns now but ${map.columns.length} in the binlog: it was altered since`,
      {
        hint: 'Values cannot be matched to columns exactly. Restore the table to a sandbox from a backup taken before the change instead.',
        context: { table: name },
      },
    );
  }
  const columns = shape.columns.map(
    (column, index): ColumnFacts => ({
      index,
      name: map.columns[index]?.name ?? column.name,
      dataType: column.dataType,
      columnType: column.columnType,
      unsigned: column.unsigned,
      charset: isTextType(column.dataType) ? (column.charset ?? undefined) : undefined,
      generated: column.generated,
    }),
  );
  for (const column of columns) {
    if (column.name !== shape.columns[column.index]?.name) {
      throw new SalvageError(
        'BAD_INPUT',
        `column ${column.index + 1} of ${name} is ${shape.columns[column.index]?.name} now but ${column.name} in the binlog`,
        { hint: 'The table was altered since; restore it from a backup instead.', context: { table: name } },
      );
    }
  }
  const address = chooseAddress(shape, map);
  const addressed = address.kind === 'row' ? '' : address.columns.join(',');
  const uniqueKeys = shape.uniqueKeys
    .map((key) => key.map((name) => columnIndex(shape, name)))
    .filter((key) => key.join(',') !== addressed);
  return { schema: map.database, table: map.table, columns, address, uniqueKeys };
}

/** Reads the live shape and joins it with the TABLE_MAP. */
export async function readTableFacts(conn: Connection, map: TableMap): Promise<TableFacts> {
  return joinTableFacts(map, await describeTable(conn, map.database, map.table));
}

/**
 * The columns that single out one row of the live table: the primary key,
 * else a unique key of NOT NULL columns (one over nullable columns allows
 * many NULL rows); undefined when there is neither.
 */
export function identifyingKey(
  shape: TableShape,
): { readonly kind: 'primary' | 'unique'; readonly columns: readonly string[] } | undefined {
  if (shape.primaryKey.length > 0) return { kind: 'primary', columns: shape.primaryKey };
  const unique = shape.uniqueKeys.find((key) =>
    key.every((n) => shape.columns[columnIndex(shape, n)]?.nullable === false),
  );
  return unique === undefined ? undefined : { kind: 'unique', columns: unique };
}

function columnIndex(shape: TableShape, name: string): number {
  return shape.columns.findIndex((c) => c.name === name);
}

/** The identifying key, else the TABLE_MAP's key, else the whole row. */
function chooseAddress(shape: TableShape, map: TableMap): RowAddress {
  const key = identifyingKey(shape);
  if (key !== undefined) return { kind: key.kind, columns: key.columns.map((n) => columnIndex(shape, n)) };
  if (map.primaryKey !== undefined && map.primaryKey.length > 0)
    return { kind: 'primary', columns: map.primaryKey };
  return { kind: 'row' };
}

const TEXT_TYPES = new Set([
  'char',
  'varchar',
  'tinytext',
  'text',
  'mediumtext',
  'longtext',
  'enum',
  'set',
  'json',
]);

export function isTextType(dataType: string): boolean {
  return TEXT_TYPES.has(dataType);
}
