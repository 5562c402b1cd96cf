/**
 * `backup create`: one backup of a source server into a repository, under the
 * repository lock; on any failure what was written is removed, and a crash
 * leaves a backup without manifest that listings report as incomplete.
 */
import { type ConnectTarget, describeServer, withConnection } from '../mysql/index.js';
import { VERSION } from '../version.js';
import { writeLogicalBackup } from './logical.js';
import { type BackupManifest, type BackupMethod, newBackupId } from './manifest.js';
import { writePhysicalBackup } from './physical.js';
import { beginBackup, openRepository, withRepositoryLock } from './repository.js';

export interface CreateBackupOptions {
  readonly source: ConnectTarget;
  /** Repository URL (file:///path); created on first use. */
  readonly repo: string;
  /** Default physical. */
  readonly method?: BackupMethod;
  /** Logical only: tables dumped at a time (default 4). */
  readonly workers?: number;
  readonly onProgress?: (event: BackupProgress) => void;
}

/** What a running backup reports. */
export type BackupProgress =
  | { readonly kind: 'started'; readonly id: string; readonly method: BackupMethod }
  | { readonly kind: 'tool-started'; readonly tool: string; readonly pid: number };

/** Takes a backup and returns its manifest. */
export async function createBackup(options: CreateBackupOptions): Promise<BackupManifest> {
  const method = options.method ?? 'physical';
  // The repository first: a bad --repo is a usage error whether or not the server answers.
  const repo = await openRepository(options.repo, { create: true });
  const server = await withConnection(options.source, describeServer);
  const id = newBackupId();
  return withRepositoryLock(
    repo,
    'backup',
    async () => {
      const writer = await beginBackup(repo, id);
      const startedAt = new Date().toISOString();
      options.onProgress?.({ kind: 'started', id, method });
      try {
        const result =
          method === 'physical'
            ? {
                ...(await writePhysicalBackup(writer, options.source, server, (tool, pid) =>
                  options.onProgress?.({ kind: 'tool-started', tool, pid }),
                )),
                warnings: [] as string[],
              }
            : await writeLogicalBackup(writer, options.source, server, options.workers);
        return await writer.commit({
          method,
          tool: result.tool,
          salvageVersion: VERSION,
          server: server.identity,
          startedAt,
          finishedAt: new Date().toISOString(),
          consistentPoint: result.point,
          warnings: result.warnings,
        });
      } catch (error) {
        await writer.abandon();
        throw error;
      }
    },
    { backupId: id },
  );
}
