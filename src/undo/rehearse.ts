/**
 * `--test-on sandbox`: the undo is first applied to a throwaway clone of the
 * source, where the assertions and checksums must pass. With a backup
 * repository the clone is the whole server, restored and replayed to the
 * source's present (triggers, foreign key parents and all); without one it is
 * a logical copy of the affected tables (mariadb-dump, exact: hex blobs, UTC
 * timestamps). Only a passing rehearsal lets the undo reach the source; the
 * source is only read here.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSandbox, type Sandbox, type SandboxOptions } from '../environment/index.js';
import { SalvageError } from '../errors.js';
import { type ConnectTarget, connect, parseDsn, queryRows, resolveTarget } from '../mysql/index.js';
import { restoreToPoint } from '../restore/index.js';
import { applyUndo } from './apply.js';
import type { UndoPlan } from './plan.js';
import type { ScriptHeader } from './script.js';
import { affectedTables, tableChecksums } from './table-checksums.js';
import { clientArgs, clientEnv, pipe, run } from './tools.js';

export interface RehearsalOptions {
  readonly source: ConnectTarget;
  readonly plan: UndoPlan;
  readonly header: ScriptHeader;
  /** A file of queries that must each return no rows after the undo. */
  readonly assertFile?: string;
  /** Where the sandbox goes (tests pass their own base directory). */
  readonly sandbox?: Omit<SandboxOptions, 'lifetime' | 'binlog'>;
  /** A backup repository of the source: rehearse on a full clone restored from it. */
  readonly repo?: string;
}

export interface Rehearsal {
  /** CHECKSUM TABLE of every affected table in the sandbox after the undo. */
  readonly checksums: Readonly<Record<string, string>>;
  readonly assertions: number;
  /** What the undo was rehearsed on. */
  readonly clone: 'restored server' | 'copied tables';
}

export async function rehearseUndo(options: RehearsalOptions): Promise<Rehearsal> {
  const tables = affectedTables(options.plan);
  const assertions = options.assertFile === undefined ? [] : await readAssertions(options.assertFile);
  const sandbox =
    options.repo === undefined ? await copiedTables(options, tables) : await restoredClone(options);
  try {
    const conn = await connect(resolveTarget(parseDsn(sandbox.dsn)));
    try {
      await applyUndo(conn, options.plan, { savePrefix: join(sandbox.dir, 'undo'), header: options.header });
      for (const query of assertions) {
        const rows = await queryRows(conn, query);
        if (rows.length > 0) {
          throw new SalvageError(
            'CHECK_FAILED',
            `assertion returned ${rows.length} rows on the rehearsal: ${query}`,
            {
              hint: 'The undo was not applied to the source. Fix the assertion or the plan, then run again.',
              context: { assertion: query, firstRow: JSON.stringify(rows[0]) },
            },
          );
        }
      }
      return {
        checksums: await tableChecksums(conn, tables),
        assertions: assertions.length,
        clone: options.repo === undefined ? 'copied tables' : 'restored server',
      };
    } finally {
      await conn.end().catch(() => conn.destroy());
    }
  } finally {
    await sandbox.destroy();
  }
}

async function copiedTables(options: RehearsalOptions, tables: readonly string[]): Promise<Sandbox> {
  const sandbox = await createSandbox({ ...options.sandbox, binlog: false, lifetime: 'process' });
  try {
    await copyTables(options.source, sandbox.port, tables);
  } catch (error) {
    await sandbox.destroy();
    throw error;
  }
  return sandbox;
}

/** The newest backup, replayed to the end of the source's binlog: the source as it is now. */
async function restoredClone(options: RehearsalOptions): Promise<Sandbox> {
  const report = await restoreToPoint({
    repo: options.repo as string,
    into: { kind: 'sandbox', options: { ...options.sandbox, lifetime: 'process' } },
    source: options.source,
    cut: { kind: 'end' },
  });
  return report.sandbox as Sandbox;
}

async function readAssertions(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new SalvageError(
      'FILE_NOT_FOUND',
      `cannot read the assertions ${file}: ${error.code ?? error.message}`,
    );
  });
  return text
    .split(/;\s*(?:\n|$)/)
    .map((q) => q.replace(/^\s*--.*$/gm, '').trim())
    .filter((q) => q.length > 0);
}

/** mariadb-dump of the tables on the source piped into the sandbox, database by database. */
async function copyTables(
  source: ConnectTarget,
  sandboxPort: number,
  tables: readonly string[],
): Promise<void> {
  const byDatabase = new Map<string, string[]>();
  for (const table of tables) {
    const [schema = '', ...rest] = table.split('.');
    byDatabase.set(schema, [...(byDatabase.get(schema) ?? []), rest.join('.')]);
  }
  const from = clientArgs(source);
  const to = ['-h', '127.0.0.1', '-P', String(sandboxPort), '-u', 'root'];
  for (const [database, names] of byDatabase) {
    await run(
      'mariadb',
      [...to, '-e', `CREATE DATABASE IF NOT EXISTS \`${database.replaceAll('`', '``')}\``],
      {},
    );
    const dump = ['--single-transaction', '--hex-blob', '--tz-utc', '--skip-triggers', database, ...names];
    await pipe(['mariadb-dump', [...from, ...dump], clientEnv(source)], ['mariadb', [...to, database], {}]);
  }
}
