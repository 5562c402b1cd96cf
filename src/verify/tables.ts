/**
 * Which tables a check covers: every base table outside the system schemas,
 * or the ones named with --tables (db.t or db.*).
 */
import { SalvageError } from '../errors.js';
import { type Connection, queryRows, quoteTableName } from '../mysql/index.js';

/** A table by schema and name. */
export interface TableRef {
  readonly schema: string;
  readonly table: string;
}

/** Schemas that belong to the server, not to the user's data. */
export const SYSTEM_SCHEMAS: readonly string[] = ['mysql', 'sys', 'information_schema', 'performance_schema'];

/** The tables named on the command line: exact tables and whole schemas (db.*). */
export interface TableFilter {
  readonly tables: readonly TableRef[];
  readonly schemas: readonly string[];
}

/** "db.t,db2.*" → a TableFilter; names may be quoted with backticks. */
export function parseTableFilter(text: string): TableFilter {
  const tables: TableRef[] = [];
  const schemas: string[] = [];
  for (const item of text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const match = /^(`(?:[^`]|``)+`|[^.`]+)\.(`(?:[^`]|``)+`|[^.`]+)$/.exec(item);
    if (!match) {
      throw new SalvageError('BAD_INPUT', `--tables entry "${item}" is not db.table or db.*.`, {
        hint: 'Name tables as db.table (or db.* for a whole schema), separated by commas.',
      });
    }
    const schema = unquote(match[1]!);
    const table = unquote(match[2]!);
    if (match[2] === '*') schemas.push(schema);
    else tables.push({ schema, table });
  }
  if (tables.length === 0 && schemas.length === 0) {
    throw new SalvageError('BAD_INPUT', '--tables names no table.', {
      hint: 'Name tables as db.table (or db.*), separated by commas.',
    });
  }
  return { tables, schemas };
}

function unquote(name: string): string {
  return name.startsWith('`') ? name.slice(1, -1).replaceAll('``', '`') : name;
}

/** A base table as the server lists it, with InnoDB's row estimate. */
export interface ListedTable extends TableRef {
  readonly estimatedRows: number;
  readonly engine: string;
}

/** The server's base tables outside the system schemas, narrowed by the filter. */
export async function listTables(conn: Connection, filter?: TableFilter): Promise<ListedTable[]> {
  const rows = await queryRows(
    conn,
    `SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, TABLE_ROWS AS n, ENGINE AS engine
       FROM information_schema.TABLES
      WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN (?)
      ORDER BY TABLE_SCHEMA, TABLE_NAME`,
    [SYSTEM_SCHEMAS],
  );
  const tables = rows.map((row) => ({
    schema: String(row.s),
    table: String(row.t),
    estimatedRows: Number(row.n ?? 0),
    engine: String(row.engine ?? ''),
  }));
  if (filter === undefined) return tables;
  return tables.filter(
    (t) =>
      filter.schemas.includes(t.schema) ||
      filter.tables.some((wanted) => wanted.schema === t.schema && wanted.table === t.table),
  );
}

/** "db.t" for messages and JSON. */
export function tableName(ref: TableRef): string {
  return `${ref.schema}.${ref.table}`;
}

export function quoteTable(ref: TableRef): string {
  return quoteTableName(ref.schema, ref.table);
}

/** Tables named in the filter that neither server has: a typo, not a difference. */
export function unknownTables(filter: TableFilter, ...present: (readonly TableRef[])[]): TableRef[] {
  return filter.tables.filter(
    (wanted) =>
      !present.some((list) => list.some((t) => t.schema === wanted.schema && t.table === wanted.table)),
  );
}
