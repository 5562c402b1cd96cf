/**
 * What schema changes lost, brought back from a backup. A DROP TABLE,
 * TRUNCATE, DROP COLUMN or narrowing ALTER leaves no before-image in the
 * binlog, so the affected tables are restored into a sandbox as they were
 * just before the first bad transaction (restore --tables), and a SQL script
 * copies what was lost back into the source:
 * - a dropped table: created again with its rows;
 * - a truncated table: its rows inserted again;
 * - dropped or narrowed columns: the old rows loaded into a side table, the
 *   columns added back (or widened back), their values set by key, the side
 *   table dropped.
 * The script is written to a file for review; applying it is the caller's
 * choice (`--apply --yes`). Schema statements commit on their own, so it is
 * not one transaction.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { sandboxTarget } from '../backup/index.js';
import type { BinlogInput } from '../binlog/index.js';
import type { Sandbox, SandboxOptions } from '../environment/index.js';
import { SalvageError } from '../errors.js';
import {
  identifyingKey,
  readChangesFrom,
  readTableFacts,
  type SchemaChange,
  traceBadChanges,
} from '../impact/index.js';
import {
  type Connection,
  type ConnectTarget,
  connect,
  describeTable,
  queryRows,
  quoteIdentifier,
  quoteTableName,
  type TableShape,
} from '../mysql/index.js';
import { restoreToPoint } from '../restore/index.js';
import { clientArgs, clientEnv, pipe, pipeInto } from './tools.js';

export interface SchemaLossOptions {
  readonly source: ConnectTarget;
  /** A connection to the source (read only here). */
  readonly conn: Connection;
  readonly gtids: readonly string[];
  /** Where the binlog is read: from the first bad transaction (found by seeking) on. */
  readonly binlog: BinlogInput;
  readonly repo: string;
  /** Where the script goes. */
  readonly out: string;
  readonly sandbox?: Omit<SandboxOptions, 'lifetime' | 'binlog'>;
}

/** How one table gets back what it lost. */
export interface TableRecovery {
  readonly table: string;
  readonly action: 'create-table' | 'insert-rows' | 'restore-columns';
  /** Columns added back or set back to their old type (restore-columns). */
  readonly columns: readonly string[];
  readonly rows: number;
}

export interface SchemaLossRecovery {
  readonly changes: readonly SchemaChange[];
  readonly tables: readonly TableRecovery[];
  /** The backup the tables came from, and the transaction they were restored to just before. */
  readonly backup: string;
  readonly before: string;
  readonly script: string;
}

const LOSSY = new Set<SchemaChange['kind']>(['drop-table', 'truncate', 'drop-column', 'alter-column']);
const SIDE_PREFIX = '_salvage_restored_';

/** Restores the lost tables and columns into a sandbox and writes the copy-back script; see the module comment. */
export async function recoverSchemaLoss(options: SchemaLossOptions): Promise<SchemaLossRecovery> {
  // Only reading: should the seek pass a transaction, the trace runs again from the start of the log.
  const trace = await readChangesFrom(options.binlog, options.gtids, (source) =>
    traceBadChanges({ gtids: options.gtids, source, tableFacts: (map) => readTableFacts(options.conn, map) }),
  );
  const databases = trace.schemaChanges.filter((c) => c.kind === 'drop-database');
  if (databases.length > 0) {
    throw new SalvageError(
      'UNDO_DDL',
      `${databases[0]?.gtid} dropped a whole database (${databases[0]?.statement.slice(0, 120)}): restore it with \`salvage restore --into sandbox --before ${trace.transactions[0]?.gtid}\` and copy it back`,
      { context: { gtid: databases[0]?.gtid } },
    );
  }
  const changes = trace.schemaChanges.filter((c) => LOSSY.has(c.kind));
  const tables = [...new Set(changes.flatMap((c) => c.tables))];
  const first = trace.transactions[0]?.gtid;
  if (changes.length === 0 || first === undefined) {
    throw new SalvageError('BAD_INPUT', 'the bad transactions lost nothing a backup must bring back', {
      hint: 'Undo them without --repo: the binlog holds their before-images.',
    });
  }
  const restored = await restoreToPoint({
    repo: options.repo,
    into: { kind: 'sandbox', options: { ...options.sandbox, lifetime: 'process' } },
    source: options.source,
    cut: { kind: 'before', gtid: first },
    tables,
  });
  const sandbox = restored.sandbox as Sandbox;
  const copy = await connect(sandboxTarget(sandbox));
  try {
    const recoveries: TableRecovery[] = [];
    // Written whole or not at all: a temporary name, renamed at the end.
    const temporary = `${options.out}.${randomBytes(4).toString('hex')}.tmp`;
    const file = createWriteStream(temporary, { flags: 'wx' });
    const write = (text: string): void => {
      file.write(text);
    };
    let complete = false;
    try {
      write(
        `-- salvage: what ${changes.map((c) => c.gtid).join(', ')} lost, from backup ${restored.backup.id}\n`,
      );
      write(
        `-- restored to just before ${first}; review, then apply with --apply --yes (schema statements commit on their own)\n`,
      );
      write('SET SESSION foreign_key_checks = 0, SESSION unique_checks = 0;\n');
      for (const table of tables) {
        recoveries.push(await copyBack(table, options, { sandbox, conn: copy }, file, write));
      }
      write('SET SESSION foreign_key_checks = 1, SESSION unique_checks = 1;\n');
      complete = true;
    } finally {
      file.end();
      await once(file, 'close');
      if (complete) await rename(temporary, options.out);
      else await rm(temporary, { force: true });
    }
    return { changes, tables: recoveries, backup: restored.backup.id, before: first, script: options.out };
  } finally {
    await copy.end().catch(() => copy.destroy());
    await sandbox.destroy();
  }
}

/** The script's part for one table, appended to `file`. */
async function copyBack(
  table: string,
  options: SchemaLossOptions,
  restored: { readonly sandbox: Sandbox; readonly conn: Connection },
  file: Writable,
  write: (text: string) => void,
): Promise<TableRecovery> {
  const [schema, name] = splitName(table);
  const [old, now] = await Promise.all([
    describeTable(restored.conn, schema, name),
    describeTable(options.conn, schema, name),
  ]);
  if (old === undefined) {
    throw new SalvageError('UNDO_DDL', `the backup restored no table ${table}`, { context: { table } });
  }
  const [count] = await queryRows(restored.conn, `SELECT COUNT(*) AS n FROM ${quoteTableName(schema, name)}`);
  const rows = Number(count?.n ?? 0);
  const dumpFrom = [
    ...clientArgs(sandboxTarget(restored.sandbox)),
    '--hex-blob',
    '--tz-utc',
    '--skip-triggers',
    '--skip-add-drop-table',
    '--skip-add-locks',
    '--skip-comments',
  ];
  write(`USE ${quoteIdentifier(schema)};\n`);
  if (now === undefined) {
    write(`-- ${table}: dropped; created again with its ${rows} rows\n`);
    await pipeInto(file, ['mariadb-dump', [...dumpFrom, schema, name], {}]);
    return { table, action: 'create-table', columns: [], rows };
  }
  const changed = changedColumns(old, now);
  if (changed.length === 0) {
    write(`-- ${table}: emptied; its ${rows} rows inserted again\n`);
    await pipeInto(file, ['mariadb-dump', [...dumpFrom, '--no-create-info', schema, name], {}]);
    return { table, action: 'insert-rows', columns: [], rows };
  }
  const key = identifyingKey(old)?.columns;
  if (key === undefined || !key.every((c) => now.columns.some((x) => x.name === c))) {
    throw new SalvageError(
      'UNDO_DDL',
      `${table} has no key its old and new rows share: its lost columns cannot be matched to rows`,
      {
        hint: `Restore it with \`salvage restore --tables ${table}\` and copy the columns back by hand.`,
        context: { table },
      },
    );
  }
  const side = `${SIDE_PREFIX}${name}`.slice(0, 64);
  await restored.conn.query(
    `RENAME TABLE ${quoteTableName(schema, name)} TO ${quoteTableName(schema, side)}`,
  );
  write(
    `-- ${table}: columns ${changed.join(', ')} lost or narrowed; the old rows go to ${side}, the columns come back by key\n`,
  );
  await pipeInto(file, ['mariadb-dump', [...dumpFrom, schema, side], {}]);
  const definitions = await columnDefinitions(restored.conn, schema, side);
  const target = quoteTableName(schema, name);
  const alters = changed.map((column) => {
    if (now.columns.some((c) => c.name === column)) return `MODIFY COLUMN ${definitions.get(column)}`;
    // Back where it was: after the column that preceded it (added back first when it was lost too).
    const index = old.columns.findIndex((c) => c.name === column);
    const previous = old.columns[index - 1]?.name;
    return `ADD COLUMN ${definitions.get(column)} ${previous === undefined ? 'FIRST' : `AFTER ${quoteIdentifier(previous)}`}`;
  });
  write(`ALTER TABLE ${target} ${alters.join(', ')};\n`);
  const join = key.map((c) => `t.${quoteIdentifier(c)} = s.${quoteIdentifier(c)}`).join(' AND ');
  const set = changed.map((c) => `t.${quoteIdentifier(c)} = s.${quoteIdentifier(c)}`).join(', ');
  write(`UPDATE ${target} t JOIN ${quoteTableName(schema, side)} s ON ${join} SET ${set};\n`);
  write(`DROP TABLE ${quoteTableName(schema, side)};\n`);
  return { table, action: 'restore-columns', columns: changed, rows };
}

/** Columns the table had and lost, or whose type changed since. */
function changedColumns(old: TableShape, now: TableShape): string[] {
  return old.columns
    .filter((c) => !c.generated)
    .filter((c) => {
      const current = now.columns.find((x) => x.name === c.name);
      return current === undefined || current.columnType !== c.columnType;
    })
    .map((c) => c.name);
}

/** Each column's definition as SHOW CREATE TABLE writes it (type, charset, NULL, default, comment). */
async function columnDefinitions(
  conn: Connection,
  schema: string,
  table: string,
): Promise<Map<string, string>> {
  const [rows] = await conn.query(`SHOW CREATE TABLE ${quoteTableName(schema, table)}`);
  const create = String((rows as Record<string, unknown>[])[0]?.['Create Table'] ?? '');
  const definitions = new Map<string, string>();
  for (const line of create.split('\n')) {
    const m = /^\s*`((?:[^`]|``)+)`\s.*?,?$/.exec(line);
    if (m) definitions.set((m[1] as string).replaceAll('``', '`'), line.trim().replace(/,$/, ''));
  }
  return definitions;
}

function splitName(table: string): [string, string] {
  const dot = table.indexOf('.');
  return [table.slice(0, dot), table.slice(dot + 1)];
}

/** Runs the script on the source with the mariadb client: what was reviewed is what runs. */
export async function applySchemaLossScript(source: ConnectTarget, script: string): Promise<void> {
  await pipe(['cat', [script], {}], ['mariadb', [...clientArgs(source), '--binary-mode'], clientEnv(source)]);
}
