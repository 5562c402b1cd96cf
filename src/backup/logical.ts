/**
 * Logical backups on mysql2: N connections share one consistent snapshot,
 * recorded with its binlog coordinates and GTID set; the schema goes to one
 * NDJSON file and each table's rows, streamed, to its own compressed SQL file.
 * Restored over mysql2, tables loaded in parallel.
 */
import { pipeline, Readable } from 'node:stream';
import { SalvageError } from '../errors.js';
import {
  type Connection,
  type ConnectTarget,
  connect,
  describeServer,
  describeTable,
  queryRows,
  quoteIdentifier,
  type ServerDescription,
  serverErrno,
  versionAtLeast,
} from '../mysql/index.js';
import { VERSION } from '../version.js';
import { type DumpColumn, InsertWriter, streamTableRows } from './logical-data.js';
import {
  CREATE_ORDER,
  createSchemaObjects,
  type DumpTable,
  listDumpObjects,
  readSchema,
  type SchemaObject,
  SchemaObjectSchema,
} from './logical-schema.js';
import type { BackupFile, BackupManifest, ConsistentPoint } from './manifest.js';
import { assertTablesInBackup, databasesOf } from './partial.js';
import { assertBackupFileIntact, type BackupWriter, openBackupFile, type Repository } from './repository.js';

const SCHEMA_FILE = 'schema.ndjson';
export const DEFAULT_WORKERS = 4;

export interface LogicalBackupResult {
  readonly tool: { readonly name: string; readonly version: string };
  readonly point: ConsistentPoint;
  readonly warnings: string[];
}

/** Dumps every user database of `source` into `writer`, `workers` tables at a time. */
export async function writeLogicalBackup(
  writer: BackupWriter,
  source: ConnectTarget,
  server: ServerDescription,
  workers = DEFAULT_WORKERS,
): Promise<LogicalBackupResult> {
  const sessions: Connection[] = [];
  const coordinator = await connect(source);
  try {
    const objects = await listDumpObjects(coordinator);
    const count = Math.max(1, Math.min(workers, objects.tables.length));
    for (let i = 0; i < count; i++) sessions.push(await connect(source));
    for (const session of sessions) {
      await queryRows(session, 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      // UTC so TIMESTAMP values are not shifted; results uncoverted so bytes come as stored.
      await queryRows(session, "SET SESSION time_zone = '+00:00', SESSION character_set_results = NULL");
    }
    const point = await openConsistentSnapshots(coordinator, sessions, server);
    // DDL after the snapshot would make a table's rows and CREATE disagree; the
    // server then fails the SELECT ("Table definition has changed"), failing the backup.
    const schema = await readSchema(coordinator, objects);
    await writer.writeFile(SCHEMA_FILE, Readable.from(schema.map((o) => `${JSON.stringify(o)}\n`)));
    const columns = new Map<DumpTable, DumpColumn[]>();
    for (const table of objects.tables) {
      const shape = await describeTable(coordinator, table.schema, table.name);
      columns.set(
        table,
        (shape?.columns ?? []).filter((c) => !c.generated),
      );
    }
    const queue = [...objects.tables].sort((a, b) => b.estimatedBytes - a.estimatedBytes);
    await Promise.all(
      sessions.map(async (session) => {
        for (let table = queue.shift(); table !== undefined; table = queue.shift()) {
          await dumpTable(writer, session, table, columns.get(table) ?? []);
        }
        await queryRows(session, 'COMMIT');
      }),
    );
    const warnings = objects.tables
      .filter((t) => t.engine.toLowerCase() !== 'innodb')
      .map(
        (t) =>
          `${t.schema}.${t.name} uses ${t.engine || 'no engine'}: its rows were read outside the consistent snapshot.`,
      );
    if (point.binlog === null)
      warnings.push('Binary logging was off: no point-in-time recovery from this backup.');
    return { tool: { name: 'salvage-logical', version: VERSION }, point, warnings };
  } finally {
    for (const conn of [coordinator, ...sessions]) await conn.end().catch(() => conn.destroy());
  }
}

async function dumpTable(
  writer: BackupWriter,
  session: Connection,
  table: DumpTable,
  columns: DumpColumn[],
): Promise<BackupFile> {
  const inserts = new InsertWriter(table.name, columns);
  const rows =
    columns.length === 0 ? Readable.from([]) : streamTableRows(session, table.schema, table.name, columns);
  const sql = pipeline(rows, inserts, () => undefined);
  return writer.writeFile(tableFile(table), sql, () => ({
    schema: table.schema,
    name: table.name,
    rows: inserts.rows,
  }));
}

/** `data/<schema>/<table>.sql`, names percent-encoded so any identifier is a safe file name. */
function tableFile(table: { schema: string; name: string }): string {
  const encode = (name: string) =>
    encodeURIComponent(name).replace(/[.*!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `data/${encode(table.schema)}/${encode(table.name)}.sql`;
}

/**
 * Starts a transaction WITH CONSISTENT SNAPSHOT on every session such that
 * all see the same committed state, and returns where that state is in the binlog.
 *
 * MariaDB reports the snapshot's own binlog position (binlog_snapshot_file/
 * position), so one session needs no lock at all; several are lined up by
 * holding commits for a moment with BACKUP STAGE BLOCK_COMMIT, which, unlike
 * FLUSH TABLES WITH READ LOCK, does not wait for running queries.
 * MySQL has neither: FLUSH TABLES WITH READ LOCK, briefly.
 */
async function openConsistentSnapshots(
  coordinator: Connection,
  sessions: readonly Connection[],
  server: ServerDescription,
): Promise<ConsistentPoint> {
  const start = async () => {
    for (const session of sessions)
      await queryRows(session, 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
  };
  if (server.flavor === 'mariadb' && (sessions.length === 1 || versionAtLeast(server.version, 10, 4))) {
    if (sessions.length === 1) await start();
    else {
      await queryRows(coordinator, 'BACKUP STAGE START');
      try {
        await queryRows(coordinator, 'BACKUP STAGE BLOCK_COMMIT');
        await start();
      } finally {
        await queryRows(coordinator, 'BACKUP STAGE END');
      }
    }
    const points = await Promise.all(sessions.map(snapshotPosition));
    const first = points[0];
    if (points.some((p) => p?.file !== first?.file || p?.position !== first?.position)) {
      throw new SalvageError('INTERNAL', `The dump sessions' snapshots differ: ${JSON.stringify(points)}.`);
    }
    if (first === undefined) return { binlog: null, gtid: null };
    const [row] = await queryRows(coordinator, 'SELECT BINLOG_GTID_POS(?, ?) AS gtid', [
      first.file,
      first.position,
    ]);
    const gtid = row?.gtid == null ? null : String(row.gtid);
    return { binlog: first, gtid: gtid === '' ? null : gtid };
  }
  await queryRows(coordinator, 'FLUSH TABLES WITH READ LOCK');
  try {
    await start();
    const locked = await describeServer(coordinator);
    const gtid = locked.gtid.flavor === 'mysql' ? locked.gtid.executed : locked.gtid.binlogPos;
    return { binlog: locked.position ?? null, gtid: gtid === '' ? null : gtid };
  } finally {
    await queryRows(coordinator, 'UNLOCK TABLES');
  }
}

async function snapshotPosition(
  session: Connection,
): Promise<{ file: string; position: number } | undefined> {
  const rows = await queryRows(session, "SHOW SESSION STATUS LIKE 'binlog_snapshot_%'");
  const status = new Map(rows.map((r) => [String(r.Variable_name).toLowerCase(), String(r.Value ?? '')]));
  const file = status.get('binlog_snapshot_file') ?? '';
  return file === '' ? undefined : { file, position: Number(status.get('binlog_snapshot_position') ?? 0) };
}

/**
 * Loads a logical backup into `target`, which must not hold any of its
 * databases yet. Every file's SHA-256 is checked before the first statement
 * runs; tables load `workers` at a time with foreign key checks off and, where
 * the user may, without binary logging. A load that raises a warning (a value
 * that did not fit exactly) fails.
 */
export async function restoreLogicalBackup(
  repo: Repository,
  manifest: BackupManifest,
  target: ConnectTarget,
  workers = DEFAULT_WORKERS,
  tables?: ReadonlySet<string>,
): Promise<void> {
  const files = manifest.files.filter(
    (f) => f.table === undefined || tables === undefined || tables.has(`${f.table.schema}.${f.table.name}`),
  );
  for (const file of files) await assertBackupFileIntact(repo, manifest, file);
  const schema = onlyTables(await readSchemaFile(repo, manifest), tables, manifest);
  const main = await connect(target);
  const sessions: Connection[] = [];
  try {
    await assertDatabasesAbsent(main, schema);
    await prepareLoadSession(main);
    await createSchemaObjects(
      main,
      schema.filter((o) => (CREATE_ORDER.beforeData as readonly string[]).includes(o.kind)),
    );
    const queue = files.filter((f) => f.table !== undefined).sort((a, b) => b.rawSize - a.rawSize);
    const count = Math.max(1, Math.min(workers, queue.length));
    for (let i = 0; i < count; i++) {
      const session = await connect(target);
      sessions.push(session);
      await prepareLoadSession(session);
    }
    await Promise.all(
      sessions.map(async (session) => {
        for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
          await loadTable(repo, manifest, file, session);
        }
      }),
    );
    await createSchemaObjects(
      main,
      schema.filter((o) => (CREATE_ORDER.afterData as readonly string[]).includes(o.kind)),
    );
  } finally {
    for (const conn of [main, ...sessions]) await conn.end().catch(() => conn.destroy());
  }
}

/**
 * A partial restore's schema: the listed tables, their databases and
 * triggers. Views, routines and events may name tables left out: not restored.
 */
function onlyTables(
  schema: readonly SchemaObject[],
  tables: ReadonlySet<string> | undefined,
  manifest: BackupManifest,
): SchemaObject[] {
  if (tables === undefined) return [...schema];
  assertTablesInBackup(
    tables,
    new Set(schema.filter((o) => o.kind === 'table').map((o) => `${o.schema}.${o.name}`)),
    manifest,
  );
  const databases = databasesOf(tables);
  return schema.filter(
    (o) =>
      (o.kind === 'database' && databases.has(o.name)) ||
      (o.kind === 'table' && tables.has(`${o.schema}.${o.name}`)) ||
      (o.kind === 'trigger' && tables.has(`${o.schema}.${triggerTable(o.sql)}`)),
  );
}

/** The table a CREATE TRIGGER statement is on. */
function triggerTable(sql: string): string {
  const m = /\bON\s+(?:`(?:[^`]|``)+`\.|\w+\.)?(`(?:[^`]|``)+`|[\w$]+)\s+FOR\s+EACH\s+ROW/i.exec(sql);
  const name = m?.[1] ?? '';
  return name.startsWith('`') ? name.slice(1, -1).replace(/``/g, '`') : name;
}

async function readSchemaFile(repo: Repository, manifest: BackupManifest): Promise<SchemaObject[]> {
  const file = manifest.files.find((f) => f.path === `${SCHEMA_FILE}.gz`);
  if (file === undefined) {
    throw new SalvageError('BACKUP_CHECKSUM', `Backup ${manifest.id} lists no ${SCHEMA_FILE}.gz.`, {
      context: { backup: manifest.id },
    });
  }
  const objects: SchemaObject[] = [];
  for await (const line of lines(await openBackupFile(repo, manifest, file))) {
    objects.push(SchemaObjectSchema.parse(JSON.parse(line)));
  }
  return objects;
}

/** The lines of a stream; errors of the stream (a checksum mismatch) propagate. */
async function* lines(stream: Readable): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of stream) {
    const parts = `${rest}${(chunk as Buffer).toString('utf8')}`.split('\n');
    rest = parts.pop() ?? '';
    for (const part of parts) if (part !== '') yield part;
  }
  if (rest !== '') yield rest;
}

async function assertDatabasesAbsent(conn: Connection, schema: readonly SchemaObject[]): Promise<void> {
  const wanted = schema.filter((o) => o.kind === 'database').map((o) => o.name);
  if (wanted.length === 0) return;
  const present = await queryRows(
    conn,
    'SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (?)',
    [wanted],
  );
  if (present.length > 0) {
    const names = present.map((r) => String(r.name)).join(', ');
    throw new SalvageError('BAD_INPUT', `The restore target already has the database(s) ${names}.`, {
      hint: 'Restore into an empty server or a new sandbox (--into sandbox); salvage never overwrites existing data.',
      context: { databases: names },
    });
  }
}

const ER_SPECIFIC_ACCESS_DENIED = 1227;

async function prepareLoadSession(conn: Connection): Promise<void> {
  try {
    await queryRows(conn, 'SET SESSION sql_log_bin = 0');
  } catch (error) {
    // Without SUPER (or BINLOG ADMIN) the restore is logged; that costs time, not correctness.
    if (serverErrno(error) !== ER_SPECIFIC_ACCESS_DENIED) throw error;
  }
  await queryRows(
    conn,
    "SET SESSION foreign_key_checks = 0, SESSION unique_checks = 0, SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION', SESSION time_zone = '+00:00'",
  );
}

async function loadTable(
  repo: Repository,
  manifest: BackupManifest,
  file: BackupFile,
  session: Connection,
): Promise<void> {
  const table = file.table;
  if (table === undefined) return;
  await queryRows(session, `USE ${quoteIdentifier(table.schema)}`);
  for await (const statement of lines(await openBackupFile(repo, manifest, file))) {
    let warnings = 0;
    try {
      const [result] = await session.query(statement);
      warnings = (result as { warningStatus?: number }).warningStatus ?? 0;
    } catch (error) {
      throw new SalvageError(
        'SERVER_ERROR',
        `Loading ${table.schema}.${table.name} failed: ${(error as Error).message}`,
        {
          context: { table: `${table.schema}.${table.name}`, file: file.path },
          cause: error,
        },
      );
    }
    if (warnings > 0) {
      const shown = await queryRows(session, 'SHOW WARNINGS LIMIT 3');
      throw new SalvageError(
        'SERVER_ERROR',
        `Loading ${table.schema}.${table.name} changed values: ${shown.map((w) => String(w.Message)).join('; ')}`,
        {
          hint: 'The target server does not store these values as the source did (sql_mode, character set or version differ).',
          context: { table: `${table.schema}.${table.name}`, file: file.path },
        },
      );
    }
  }
}
