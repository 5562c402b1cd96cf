/**
 * Integrity of one server: CHECK TABLE, and foreign-key orphans found by
 * query for every declared foreign key, so child rows written with
 * FOREIGN_KEY_CHECKS=0 (or by a restore that skipped the checks) are caught.
 */
import { type Connection, queryRows, quoteIdentifier } from '../mysql/index.js';
import { type EncodedKeyValue, encodeKeyValue, type KeyValue } from './chunks.js';
import { quoteTable, type TableRef, tableName } from './tables.js';

export type CheckMode = 'quick' | 'medium' | 'extended';

export interface TableCheck {
  readonly table: string;
  readonly status: 'ok' | 'warning' | 'error';
  /** The server's messages other than a plain OK. */
  readonly messages: readonly string[];
}

/** CHECK TABLE for each table, one statement per table so one failure does not hide the rest. */
export async function checkTables(
  conn: Connection,
  tables: readonly TableRef[],
  mode: CheckMode,
): Promise<TableCheck[]> {
  const results: TableCheck[] = [];
  for (const ref of tables) {
    const rows = await queryRows(conn, `CHECK TABLE ${quoteTable(ref)} ${mode.toUpperCase()}`);
    const messages: string[] = [];
    let status: TableCheck['status'] = 'ok';
    for (const row of rows) {
      const type = String(row.Msg_type ?? '').toLowerCase();
      const text = String(row.Msg_text ?? '');
      if (type === 'error') status = 'error';
      else if (type === 'warning' && status === 'ok') status = 'warning';
      if (!(type === 'status' && /^(OK|Table is already up to date)$/i.test(text)) && type !== 'note') {
        messages.push(`${type}: ${text}`);
      }
      // A status other than OK (e.g. "Corrupt", "Operation failed") is a failed check.
      if (type === 'status' && !/^(OK|Table is already up to date)$/i.test(text)) status = 'error';
    }
    results.push({ table: tableName(ref), status, messages });
  }
  return results;
}

/** A declared foreign key: child columns referencing parent columns, in key order. */
export interface ForeignKey {
  readonly name: string;
  readonly child: TableRef;
  readonly childColumns: readonly string[];
  readonly parent: TableRef;
  readonly parentColumns: readonly string[];
}

/** Every foreign key declared in the given schemas (all non-system schemas when omitted). */
export async function listForeignKeys(conn: Connection, schemas?: readonly string[]): Promise<ForeignKey[]> {
  const rows = await queryRows(
    conn,
    `SELECT CONSTRAINT_SCHEMA AS s, TABLE_NAME AS t, CONSTRAINT_NAME AS name, COLUMN_NAME AS col,
            REFERENCED_TABLE_SCHEMA AS ps, REFERENCED_TABLE_NAME AS pt, REFERENCED_COLUMN_NAME AS pcol
       FROM information_schema.KEY_COLUMN_USAGE
      WHERE REFERENCED_TABLE_NAME IS NOT NULL
        AND TABLE_SCHEMA NOT IN ('mysql', 'sys', 'information_schema', 'performance_schema')
      ORDER BY CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION`,
  );
  const keys = new Map<string, ForeignKey & { childColumns: string[]; parentColumns: string[] }>();
  for (const row of rows) {
    if (schemas && !schemas.includes(String(row.s))) continue;
    const id = JSON.stringify([row.s, row.t, row.name]);
    const key = keys.get(id) ?? {
      name: String(row.name),
      child: { schema: String(row.s), table: String(row.t) },
      childColumns: [],
      parent: { schema: String(row.ps), table: String(row.pt) },
      parentColumns: [],
    };
    key.childColumns.push(String(row.col));
    key.parentColumns.push(String(row.pcol));
    keys.set(id, key);
  }
  return [...keys.values()];
}

export interface OrphanCheck {
  readonly constraint: string;
  readonly table: string;
  readonly columns: readonly string[];
  readonly references: string;
  readonly referenced_columns: readonly string[];
  /** Child rows whose (non-NULL) key has no parent row. */
  readonly orphans: number;
  /** A few orphaned child keys' values, in `columns` order. */
  readonly samples: readonly (readonly EncodedKeyValue[])[];
}

const ORPHAN_SAMPLES = 5;

/**
 * Child rows with no parent, for each foreign key. Rows with any NULL in the
 * child columns are left out: a NULL foreign key references nothing (MATCH
 * SIMPLE, what both servers enforce).
 */
export async function findOrphans(conn: Connection, keys: readonly ForeignKey[]): Promise<OrphanCheck[]> {
  const results: OrphanCheck[] = [];
  for (const fk of keys) {
    const child = fk.childColumns.map((c) => `c.${quoteIdentifier(c)}`);
    const join = fk.childColumns
      .map((c, i) => `p.${quoteIdentifier(fk.parentColumns[i]!)} = c.${quoteIdentifier(c)}`)
      .join(' AND ');
    const from = `FROM ${quoteTable(fk.child)} c LEFT JOIN ${quoteTable(fk.parent)} p ON ${join}
      WHERE p.${quoteIdentifier(fk.parentColumns[0]!)} IS NULL AND ${child.map((c) => `${c} IS NOT NULL`).join(' AND ')}`;
    const [count] = await queryRows(conn, `SELECT COUNT(*) AS n ${from}`);
    const orphans = Number(count?.n ?? 0);
    const samples =
      orphans === 0
        ? []
        : (await queryRows(conn, `SELECT DISTINCT ${child.join(', ')} ${from} LIMIT ${ORPHAN_SAMPLES}`)).map(
            (row) => fk.childColumns.map((c) => encodeKeyValue(row[c] as KeyValue)),
          );
    results.push({
      constraint: fk.name,
      table: tableName(fk.child),
      columns: fk.childColumns,
      references: tableName(fk.parent),
      referenced_columns: fk.parentColumns,
      orphans,
      samples,
    });
  }
  return results;
}
