/**
 * Table shapes from information_schema: column names, types, signedness and
 * keys. Row events logged with MINIMAL metadata carry none of these, so
 * decoding them needs the live server's view of the table.
 */
import type { Connection } from './connect.js';
import { queryRows } from './query.js';

export interface ColumnShape {
  readonly name: string;
  /** 1-based position: the order of values in a row event. */
  readonly ordinal: number;
  /** DATA_TYPE, lower case: int, varchar, decimal, json... */
  readonly dataType: string;
  /** COLUMN_TYPE, the full declaration: "int(10) unsigned", "enum('a','b')". */
  readonly columnType: string;
  readonly unsigned: boolean;
  readonly nullable: boolean;
  readonly charset: string | undefined;
  /** Generated (virtual or stored) columns are never written by salvage. */
  readonly generated: boolean;
}

export interface TableShape {
  readonly schema: string;
  readonly table: string;
  readonly columns: readonly ColumnShape[];
  /** Column names of the primary key, in key order; empty when there is none. */
  readonly primaryKey: readonly string[];
  /** Each unique key's column names, in key order (the primary key excluded). */
  readonly uniqueKeys: readonly (readonly string[])[];
}

/** The table's shape, or undefined when it does not exist. */
export async function describeTable(
  conn: Connection,
  schema: string,
  table: string,
): Promise<TableShape | undefined> {
  const columns = await queryRows(
    conn,
    `SELECT COLUMN_NAME AS name, ORDINAL_POSITION AS ordinal, DATA_TYPE AS dataType,
            COLUMN_TYPE AS columnType, IS_NULLABLE AS nullable, CHARACTER_SET_NAME AS charset,
            EXTRA AS extra
       FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
      ORDER BY ORDINAL_POSITION`,
    [schema, table],
  );
  if (columns.length === 0) return undefined;
  const keyRows = await queryRows(
    conn,
    `SELECT INDEX_NAME AS indexName, COLUMN_NAME AS name
       FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0
      ORDER BY INDEX_NAME, SEQ_IN_INDEX`,
    [schema, table],
  );
  const keys = new Map<string, string[]>();
  for (const row of keyRows) {
    const name = String(row.indexName);
    keys.set(name, [...(keys.get(name) ?? []), String(row.name)]);
  }
  return {
    schema,
    table,
    columns: columns.map((row) => {
      const columnType = String(row.columnType);
      return {
        name: String(row.name),
        ordinal: Number(row.ordinal),
        dataType: String(row.dataType).toLowerCase(),
        columnType,
        unsigned: /\bunsigned\b/i.test(columnType),
        nullable: row.nullable === 'YES',
        charset: row.charset == null ? undefined : String(row.charset),
        generated: /\b(VIRTUAL|STORED|PERSISTENT) GENERATED\b/i.test(String(row.extra ?? '')),
      };
    }),
    primaryKey: keys.get('PRIMARY') ?? [],
    uniqueKeys: [...keys].filter(([name]) => name !== 'PRIMARY').map(([, cols]) => cols),
  };
}
