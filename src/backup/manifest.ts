/**
 * The manifest: what a backup is, where its consistent point sits in the
 * binary log, and the size and SHA-256 of every file it holds. It is the
 * last object written, so its presence is what makes a backup complete.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

export const BACKUP_METHODS = ['physical', 'logical'] as const;
export type BackupMethod = (typeof BACKUP_METHODS)[number];

/** A server's identity as manifests and archive indexes store it. */
export const ServerIdentitySchema = z.object({
  flavor: z.enum(['mysql', 'mariadb']),
  version: z.string(),
  serverId: z.number().int(),
  serverUuid: z.string().optional(),
  hostname: z.string(),
  port: z.number().int(),
  datadir: z.string(),
});

/** One file of a backup. `sha256` and `size` are of the stored (compressed) bytes. */
export const BackupFileSchema = z.object({
  path: z.string(),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Bytes before compression: what a restore needs on disk. */
  rawSize: z.number().int().nonnegative(),
  /** For a logical backup's table data: the table and its row count at the consistent point. */
  table: z.object({ schema: z.string(), name: z.string(), rows: z.number().int().nonnegative() }).optional(),
});
export type BackupFile = z.infer<typeof BackupFileSchema>;

/**
 * Where the backup's data stands in the source's history: restoring it and
 * replaying binlogs from `binlog` (or after `gtid`) reproduces the source.
 * Both are null when the source had binary logging off.
 */
export const ConsistentPointSchema = z.object({
  binlog: z.object({ file: z.string(), position: z.number().int().nonnegative() }).nullable(),
  /** MariaDB: gtid_binlog_pos (domain-server-seq,...); MySQL: the gtid_executed set. */
  gtid: z.string().nullable(),
});
export type ConsistentPoint = z.infer<typeof ConsistentPointSchema>;

export const BackupManifestSchema = z.object({
  format: z.literal(1),
  /** Sortable by time: `YYYYMMDDTHHMMSSmmmZ-xxxx`. */
  id: z.string(),
  method: z.enum(BACKUP_METHODS),
  tool: z.object({ name: z.string(), version: z.string() }),
  salvageVersion: z.string(),
  server: ServerIdentitySchema,
  startedAt: z.string(),
  finishedAt: z.string(),
  consistentPoint: ConsistentPointSchema,
  compression: z.enum(['gzip']),
  files: z.array(BackupFileSchema),
  /** Sum of the stored sizes. */
  totalSize: z.number().int().nonnegative(),
  /** Sum of the uncompressed sizes. */
  totalRawSize: z.number().int().nonnegative(),
  /** What the backup does not cover exactly (non-transactional tables, skipped objects). */
  warnings: z.array(z.string()),
});
export type BackupManifest = z.infer<typeof BackupManifestSchema>;

/** A new backup id: the UTC start time to the millisecond, then a random tail against collisions. */
export function newBackupId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:.]/g, '');
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

export const BACKUP_ID = /^\d{8}T\d{9}Z-[0-9a-f]{4}$/;
