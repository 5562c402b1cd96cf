/**
 * `backup verify`: re-hash every file of a backup against its manifest and,
 * with a restore test, restore it into a throwaway sandbox, check that the
 * server starts and that every table passes CHECK TABLE, then destroy it.
 */
import { SalvageError } from '../errors.js';
import { type Connection, queryRows, quoteTableName, withConnection } from '../mysql/index.js';
import { checkTables, SYSTEM_SCHEMAS } from '../verify/index.js';
import type { BackupManifest } from './manifest.js';
import { checkBackupFile, openRepository, readManifest } from './repository.js';
import { type RestoreTarget, restoreBackup } from './restore.js';

export interface FileCheck {
  readonly path: string;
  readonly ok: boolean;
  readonly size: number;
  readonly sha256: string;
  readonly expectedSize: number;
  readonly expectedSha256: string;
}

export interface RestoreTest {
  readonly ok: boolean;
  readonly seconds: number;
  /** Tables checked with CHECK TABLE. */
  readonly tables: number;
  /** What failed: a table's CHECK TABLE message, or a row count that differs from the manifest. */
  readonly failures: readonly string[];
}

export interface BackupVerification {
  readonly backup: BackupManifest;
  readonly ok: boolean;
  readonly files: readonly FileCheck[];
  /** Present when a restore test was asked for and the files were intact. */
  readonly restoreTest: RestoreTest | undefined;
}

export interface VerifyBackupOptions {
  readonly restoreTest?: boolean;
  /** Where the restore test's sandbox is made (default: a new sandbox in the default place). */
  readonly sandbox?: Extract<RestoreTarget, { kind: 'sandbox' }>;
}

export async function verifyBackup(
  repoUrl: string,
  id: string,
  options: VerifyBackupOptions = {},
): Promise<BackupVerification> {
  const repo = await openRepository(repoUrl);
  const backup = await readManifest(repo, id);
  const files: FileCheck[] = [];
  for (const file of backup.files) {
    const found = await checkBackupFile(repo, backup, file);
    files.push({ path: file.path, ...found, expectedSize: file.size, expectedSha256: file.sha256 });
  }
  const intact = files.every((f) => f.ok);
  const restoreTest =
    options.restoreTest && intact
      ? await runRestoreTest(repoUrl, backup, options.sandbox ?? { kind: 'sandbox' })
      : undefined;
  return { backup, ok: intact && (restoreTest?.ok ?? true), files, restoreTest };
}

async function runRestoreTest(
  repoUrl: string,
  backup: BackupManifest,
  into: Extract<RestoreTarget, { kind: 'sandbox' }>,
): Promise<RestoreTest> {
  const started = performance.now();
  const restored = await restoreBackup(repoUrl, backup.id, into);
  const sandbox = restored.sandbox;
  try {
    const { tables, failures } = await withConnection(restored.target, (conn) =>
      checkRestoredTables(conn, backup),
    );
    return {
      ok: failures.length === 0,
      seconds: Math.round(performance.now() - started) / 1000,
      tables,
      failures,
    };
  } finally {
    await sandbox?.destroy();
  }
}

async function checkRestoredTables(
  conn: Connection,
  backup: BackupManifest,
): Promise<{ tables: number; failures: string[] }> {
  const tables = (
    await queryRows(
      conn,
      "SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_TYPE <> 'VIEW' AND TABLE_SCHEMA NOT IN (?) ORDER BY 1, 2",
      [SYSTEM_SCHEMAS],
    )
  ).map((row) => ({ schema: String(row.db), table: String(row.name) }));
  const failures = (await checkTables(conn, tables, 'medium'))
    .filter((check) => check.status !== 'ok')
    .map((check) => `${check.table}: CHECK TABLE says ${check.messages.join('; ')}`);
  for (const file of backup.files) {
    if (file.table === undefined) continue;
    const [row] = await queryRows(
      conn,
      `SELECT COUNT(*) AS n FROM ${quoteTableName(file.table.schema, file.table.name)}`,
    ).catch((error: unknown) => {
      if (error instanceof SalvageError) return [{ n: -1 }];
      throw error;
    });
    const count = Number(row?.n ?? -1);
    if (count !== file.table.rows) {
      failures.push(
        `${file.table.schema}.${file.table.name}: ${count} rows restored, ${file.table.rows} backed up`,
      );
    }
  }
  return { tables: tables.length, failures };
}
