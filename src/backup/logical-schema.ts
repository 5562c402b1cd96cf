/**
 * The schema of a logical backup: every database, table, view, routine,
 * trigger and event as the server's own SHOW CREATE text, with the session
 * settings (sql_mode, time zone) each must be created under. Stored as
 * NDJSON so a restore runs each statement as one query, with no SQL splitting.
 */
import { z } from 'zod';
import { type Connection, queryRows, quoteIdentifier, quoteTableName } from '../mysql/index.js';
import { SYSTEM_SCHEMAS } from '../verify/index.js';

export const SchemaObjectSchema = z.object({
  kind: z.enum(['database', 'table', 'view', 'routine', 'trigger', 'event']),
  schema: z.string(),
  name: z.string(),
  sql: z.string(),
  sqlMode: z.string().optional(),
  timeZone: z.string().optional(),
});
export type SchemaObject = z.infer<typeof SchemaObjectSchema>;

/** The order a restore creates them in: triggers after the data, so loading fires none. */
export const CREATE_ORDER = {
  beforeData: ['database', 'table'],
  afterData: ['routine', 'view', 'trigger', 'event'],
} as const;

/** A base table to dump. */
export interface DumpTable {
  readonly schema: string;
  readonly name: string;
  readonly engine: string;
  /** information_schema's estimate, to start the largest tables first. */
  readonly estimatedBytes: number;
}

/** The user's databases, base tables and views. */
export async function listDumpObjects(
  conn: Connection,
): Promise<{ databases: string[]; tables: DumpTable[]; views: { schema: string; name: string }[] }> {
  const databases = (
    await queryRows(
      conn,
      'SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN (?) ORDER BY 1',
      [SYSTEM_SCHEMAS],
    )
  ).map((row) => String(row.name));
  const rows = await queryRows(
    conn,
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name, TABLE_TYPE AS type, ENGINE AS engine,
            COALESCE(DATA_LENGTH, 0) + COALESCE(INDEX_LENGTH, 0) AS bytes
       FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN (?) ORDER BY 1, 2`,
    [SYSTEM_SCHEMAS],
  );
  const tables: DumpTable[] = [];
  const views: { schema: string; name: string }[] = [];
  for (const row of rows) {
    const ref = { schema: String(row.db), name: String(row.name) };
    if (row.type === 'VIEW') views.push(ref);
    else tables.push({ ...ref, engine: String(row.engine ?? ''), estimatedBytes: Number(row.bytes ?? 0) });
  }
  return { databases, tables, views };
}

/** Reads the CREATE statements of everything in `databases`. */
export async function readSchema(
  conn: Connection,
  objects: {
    databases: readonly string[];
    tables: readonly DumpTable[];
    views: readonly { schema: string; name: string }[];
  },
): Promise<SchemaObject[]> {
  // SHOW CREATE output follows the session sql_mode (ANSI_QUOTES...): ask for the plain form.
  await conn.query("SET SESSION sql_mode = '', SESSION sql_quote_show_create = 1");
  const out: SchemaObject[] = [];
  for (const db of objects.databases) {
    const [row] = await queryRows(conn, `SHOW CREATE DATABASE ${quoteIdentifier(db)}`);
    out.push({ kind: 'database', schema: db, name: db, sql: String(row?.['Create Database']) });
  }
  for (const table of objects.tables) {
    const [row] = await queryRows(conn, `SHOW CREATE TABLE ${quoteTableName(table.schema, table.name)}`);
    out.push({ kind: 'table', schema: table.schema, name: table.name, sql: String(row?.['Create Table']) });
  }
  for (const view of objects.views) {
    const [row] = await queryRows(conn, `SHOW CREATE VIEW ${quoteTableName(view.schema, view.name)}`);
    out.push({ kind: 'view', schema: view.schema, name: view.name, sql: String(row?.['Create View']) });
  }
  for (const db of objects.databases) out.push(...(await readProgrammableObjects(conn, db)));
  return out;
}

async function readProgrammableObjects(conn: Connection, db: string): Promise<SchemaObject[]> {
  const out: SchemaObject[] = [];
  const routines = await queryRows(
    conn,
    'SELECT ROUTINE_NAME AS name, ROUTINE_TYPE AS type FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? ORDER BY 2, 1',
    [db],
  );
  for (const routine of routines) {
    const type = String(routine.type) === 'FUNCTION' ? 'FUNCTION' : 'PROCEDURE';
    const name = String(routine.name);
    const [row] = await queryRows(conn, `SHOW CREATE ${type} ${quoteTableName(db, name)}`);
    const sql = row?.[type === 'FUNCTION' ? 'Create Function' : 'Create Procedure'];
    out.push({ kind: 'routine', schema: db, name, sql: String(sql), sqlMode: String(row?.sql_mode ?? '') });
  }
  const triggers = await queryRows(conn, `SHOW TRIGGERS FROM ${quoteIdentifier(db)}`);
  for (const trigger of triggers) {
    const name = String(trigger.Trigger);
    const [row] = await queryRows(conn, `SHOW CREATE TRIGGER ${quoteTableName(db, name)}`);
    out.push({
      kind: 'trigger',
      schema: db,
      name,
      sql: String(row?.['SQL Original Statement']),
      sqlMode: String(row?.sql_mode ?? ''),
    });
  }
  const events = await queryRows(
    conn,
    'SELECT EVENT_NAME AS name FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? ORDER BY 1',
    [db],
  );
  for (const event of events) {
    const name = String(event.name);
    const [row] = await queryRows(conn, `SHOW CREATE EVENT ${quoteTableName(db, name)}`);
    out.push({
      kind: 'event',
      schema: db,
      name,
      sql: String(row?.['Create Event']),
      sqlMode: String(row?.sql_mode ?? ''),
      timeZone: String(row?.time_zone ?? 'SYSTEM'),
    });
  }
  return out;
}

/**
 * Creates schema objects on `conn` in the given order. Views are retried
 * until none is left or no progress is made, since a view may select from a
 * view created after it.
 */
export async function createSchemaObjects(conn: Connection, objects: readonly SchemaObject[]): Promise<void> {
  let pending = objects.filter((o) => o.kind === 'view');
  for (const object of objects) {
    if (object.kind !== 'view') await createObject(conn, object);
  }
  while (pending.length > 0) {
    const failed: SchemaObject[] = [];
    let lastError: unknown;
    for (const view of pending) {
      try {
        await createObject(conn, view);
      } catch (error) {
        failed.push(view);
        lastError = error;
      }
    }
    if (failed.length === pending.length) throw lastError;
    pending = failed;
  }
}

async function createObject(conn: Connection, object: SchemaObject): Promise<void> {
  if (object.kind !== 'database') await conn.query(`USE ${quoteIdentifier(object.schema)}`);
  await queryRows(conn, 'SET SESSION sql_mode = ?, SESSION time_zone = ?', [
    object.sqlMode ?? 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION',
    object.timeZone ?? '+00:00',
  ]);
  await queryRows(conn, object.sql);
}
