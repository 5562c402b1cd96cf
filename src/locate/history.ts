/**
 * Migration tools' history tables: one small adapter per tool saying which
 * table it writes, the columns it has, how a migration id is matched and
 * which columns identify its row in the binlog.
 */
import { SalvageError } from '../errors.js';
import { type Connection, queryRows, quoteIdentifier, quoteTableName, type Row } from '../mysql/index.js';

export type MigrationTool =
  | 'flyway'
  | 'liquibase'
  | 'knex'
  | 'prisma'
  | 'golang-migrate'
  | 'rails'
  | 'laravel'
  | 'typeorm'
  | 'sequelize'
  | 'alembic';

export interface HistoryAdapter {
  readonly tool: MigrationTool;
  /** The table name, compared without case (Liquibase's is upper case, Sequelize's mixed). */
  readonly table: string;
  /** Columns the tool creates; all must be present (compared without case). */
  readonly columns: readonly string[];
  /** Columns an id must equal (e.g. Flyway's version). */
  readonly exact: readonly string[];
  /** Columns an id may be a prefix or a part of (e.g. Knex's file name). */
  readonly partial: readonly string[];
  /** Columns whose values identify the history row in a binlog row image. */
  readonly rowKey: readonly string[];
  /** The column saying when the migration ran, when the tool records it. */
  readonly time?: string;
  /** The column ordering runs, when there is one. */
  readonly order?: string;
  /** How a row reads for people. */
  readonly label: (row: Row) => string;
}

const text = (row: Row, column: string): string => {
  const v = row[column];
  return v === null || v === undefined ? '' : String(v);
};

/** The adapters; for a shared table name the more specific shape comes first. */
export const HISTORY_ADAPTERS: readonly HistoryAdapter[] = [
  {
    tool: 'flyway',
    table: 'flyway_schema_history',
    columns: ['installed_rank', 'version', 'description', 'script', 'installed_on', 'success'],
    exact: ['version'],
    partial: ['script', 'description'],
    rowKey: ['installed_rank'],
    time: 'installed_on',
    order: 'installed_rank',
    label: (r) =>
      text(r, 'version') ? `V${text(r, 'version')} ${text(r, 'description')}` : text(r, 'script'),
  },
  {
    tool: 'liquibase',
    table: 'databasechangelog',
    columns: ['id', 'author', 'filename', 'dateexecuted', 'orderexecuted'],
    exact: ['id'],
    partial: ['filename', 'id'],
    rowKey: ['id', 'author', 'filename'],
    time: 'dateexecuted',
    order: 'orderexecuted',
    label: (r) => `${text(r, 'id')} (${text(r, 'author')}, ${text(r, 'filename')})`,
  },
  {
    tool: 'knex',
    table: 'knex_migrations',
    columns: ['id', 'name', 'batch', 'migration_time'],
    exact: ['name'],
    partial: ['name'],
    rowKey: ['id'],
    time: 'migration_time',
    order: 'id',
    label: (r) => text(r, 'name'),
  },
  {
    tool: 'prisma',
    table: '_prisma_migrations',
    columns: ['id', 'migration_name', 'started_at', 'finished_at'],
    exact: ['migration_name', 'id'],
    partial: ['migration_name'],
    rowKey: ['id'],
    time: 'started_at',
    order: 'started_at',
    label: (r) => text(r, 'migration_name'),
  },
  {
    tool: 'golang-migrate',
    table: 'schema_migrations',
    columns: ['version', 'dirty'],
    exact: ['version'],
    partial: [],
    rowKey: ['version'],
    label: (r) => text(r, 'version'),
  },
  {
    tool: 'rails',
    table: 'schema_migrations',
    columns: ['version'],
    exact: ['version'],
    partial: ['version'],
    rowKey: ['version'],
    order: 'version',
    label: (r) => text(r, 'version'),
  },
  {
    tool: 'laravel',
    table: 'migrations',
    columns: ['id', 'migration', 'batch'],
    exact: ['migration'],
    partial: ['migration'],
    rowKey: ['id'],
    order: 'id',
    label: (r) => text(r, 'migration'),
  },
  {
    tool: 'typeorm',
    table: 'migrations',
    columns: ['id', 'timestamp', 'name'],
    exact: ['name', 'timestamp'],
    partial: ['name'],
    rowKey: ['id'],
    order: 'id',
    label: (r) => text(r, 'name'),
  },
  {
    tool: 'sequelize',
    table: 'sequelizemeta',
    columns: ['name'],
    exact: ['name'],
    partial: ['name'],
    rowKey: ['name'],
    order: 'name',
    label: (r) => text(r, 'name'),
  },
  {
    tool: 'alembic',
    table: 'alembic_version',
    columns: ['version_num'],
    exact: ['version_num'],
    partial: ['version_num'],
    rowKey: ['version_num'],
    label: (r) => text(r, 'version_num'),
  },
];

/** A history table found on the server, recognized as one tool's. */
export interface HistoryTable {
  readonly adapter: HistoryAdapter;
  readonly schema: string;
  readonly table: string;
  /** Actual column names in ordinal order (the order of values in a binlog row image). */
  readonly columns: readonly string[];
}

/** A table with a history table's name but not a shape any tool writes. */
export interface UnknownHistoryShape {
  readonly schema: string;
  readonly table: string;
  readonly columns: readonly string[];
  /** Per candidate tool, the columns it would have and which are missing. */
  readonly expected: readonly { readonly tool: MigrationTool; readonly missing: readonly string[] }[];
}

const SYSTEM_SCHEMAS = ['mysql', 'sys', 'information_schema', 'performance_schema'];

/** The history tables in `schema` (else every user schema), recognized or not. */
export async function findHistoryTables(
  conn: Connection,
  schema: string | undefined,
): Promise<{ tables: HistoryTable[]; unknown: UnknownHistoryShape[] }> {
  const names = [...new Set(HISTORY_ADAPTERS.map((a) => a.table))];
  const rows = await queryRows(
    conn,
    `SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, COLUMN_NAME AS c
       FROM information_schema.COLUMNS
      WHERE LOWER(TABLE_NAME) IN (${names.map(() => '?').join(', ')})
        AND ${schema === undefined ? `TABLE_SCHEMA NOT IN (${SYSTEM_SCHEMAS.map(() => '?').join(', ')})` : 'TABLE_SCHEMA = ?'}
      ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`,
    [...names, ...(schema === undefined ? SYSTEM_SCHEMAS : [schema])],
  );
  const byTable = new Map<string, { schema: string; table: string; columns: string[] }>();
  for (const row of rows) {
    const key = `${row.s}.${row.t}`;
    const entry = byTable.get(key) ?? { schema: String(row.s), table: String(row.t), columns: [] };
    entry.columns.push(String(row.c));
    byTable.set(key, entry);
  }
  const tables: HistoryTable[] = [];
  const unknown: UnknownHistoryShape[] = [];
  for (const found of byTable.values()) {
    const present = new Set(found.columns.map((c) => c.toLowerCase()));
    const candidates = HISTORY_ADAPTERS.filter((a) => a.table === found.table.toLowerCase());
    const adapter = candidates.find((a) => a.columns.every((c) => present.has(c)));
    if (adapter) tables.push({ adapter, ...found });
    else {
      unknown.push({
        ...found,
        expected: candidates.map((a) => ({
          tool: a.tool,
          missing: a.columns.filter((c) => !present.has(c)),
        })),
      });
    }
  }
  return { tables, unknown };
}

/** The error for history tables whose shape no tool writes. */
export function unknownShapeError(shapes: readonly UnknownHistoryShape[]): SalvageError {
  const described = shapes.map((s) => {
    const expected = s.expected
      .map((e) => {
        const adapter = HISTORY_ADAPTERS.find((a) => a.tool === e.tool && a.table === s.table.toLowerCase());
        return `${e.tool} expects ${adapter?.columns.join(', ')} (missing ${e.missing.join(', ')})`;
      })
      .join('; or ');
    return `${s.schema}.${s.table} has columns ${s.columns.join(', ')}: ${expected}`;
  });
  return new SalvageError(
    'MIGRATION_HISTORY_SHAPE',
    `a migration history table has a shape salvage does not know: ${described.join('. ')}`,
    { context: { table: shapes.map((s) => `${s.schema}.${s.table}`).join(', ') } },
  );
}

/** One applied migration as its history table records it. */
export interface MigrationRecord {
  readonly history: HistoryTable;
  /** The row, keyed by lower-case column name. */
  readonly row: Row;
  readonly label: string;
  /** When it ran (epoch seconds) when the tool records it. */
  readonly ranAt: number | undefined;
}

/** Every row of a history table (they are small: one row per migration). */
export async function readMigrationRecords(
  conn: Connection,
  history: HistoryTable,
): Promise<MigrationRecord[]> {
  const { adapter } = history;
  const actual = (lower: string): string => history.columns.find((c) => c.toLowerCase() === lower) ?? lower;
  const time =
    adapter.time === undefined
      ? ''
      : `, UNIX_TIMESTAMP(${quoteIdentifier(actual(adapter.time))}) AS \`salvage ran at\``;
  const order = adapter.order === undefined ? '' : ` ORDER BY ${quoteIdentifier(actual(adapter.order))}`;
  const rows = await queryRows(
    conn,
    `SELECT *${time} FROM ${quoteTableName(history.schema, history.table)}${order}`,
  );
  return rows.map((raw) => {
    const row: Row = {};
    for (const [k, v] of Object.entries(raw)) if (k !== 'salvage ran at') row[k.toLowerCase()] = v;
    const ranAt = raw['salvage ran at'];
    return {
      history,
      row,
      label: adapter.label(row),
      ranAt: ranAt === null || ranAt === undefined ? undefined : Number(ranAt),
    };
  });
}
