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
  const shapes = await readShapes(conn, 'TABLE_SCHEMA = ? AND TABLE_NAME = ?', [schema, table]);
  return shapes.get(`${schema}.${table}`);
}

/**
 * Every user table's shape, keyed `db.table`: one pair of queries however
 * many tables, so a binlog reader can fill in MINIMAL metadata synchronously.
 */
export async function describeAllTables(conn: Connection): Promise<Map<string, TableShape>> {
  return readShapes(
    conn,
    "TABLE_SCHEMA NOT IN ('mysql', 'sys', 'information_schema', 'performance_schema')",
    [],
  );
}

async function readShapes(
  conn: Connection,
  where: string,
  params: readonly unknown[],
): Promise<Map<string, TableShape>> {
  const columns = await queryRows(
    conn,
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl, COLUMN_NAME AS name, ORDINAL_POSITION AS ordinal,
            DATA_TYPE AS dataType, COLUMN_TYPE AS columnType, IS_NULLABLE AS nullable,
            CHARACTER_SET_NAME AS charset, EXTRA AS extra
       FROM information_schema.COLUMNS
      WHERE ${where}
      ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`,
    params,
  );
  const keyRows = await queryRows(
    conn,
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl, INDEX_NAME AS indexName, COLUMN_NAME AS name
       FROM information_schema.STATISTICS
      WHERE ${where} AND NON_UNIQUE = 0
      ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
    params,
  );
  const keys = new Map<string, Map<string, string[]>>();
  for (const row of keyRows) {
    const id = `${row.db}.${row.tbl}`;
    const tableKeys = keys.get(id) ?? new Map<string, string[]>();
    keys.set(id, tableKeys);
    const name = String(row.indexName);
    tableKeys.set(name, [...(tableKeys.get(name) ?? []), String(row.name)]);
  }
  const shapes = new Map<string, { schema: string; table: string; columns: ColumnShape[] }>();
  for (const row of columns) {
    const id = `${row.db}.${row.tbl}`;
    let shape = shapes.get(id);
    if (shape === undefined) {
      shape = { schema: String(row.db), table: String(row.tbl), columns: [] };
      shapes.set(id, shape);
    }
    shape.columns.push(columnShape(row));
  }
  const result = new Map<string, TableShape>();
  for (const [id, shape] of shapes) {
    const tableKeys = keys.get(id) ?? new Map<string, string[]>();
    result.set(id, {
      ...shape,
      primaryKey: tableKeys.get('PRIMARY') ?? [],
      uniqueKeys: [...tableKeys].filter(([name]) => name !== 'PRIMARY').map(([, cols]) => cols),
    });
  }
  return result;
}

function columnShape(row: Record<string, unknown>): ColumnShape {
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
}
