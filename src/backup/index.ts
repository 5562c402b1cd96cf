/**
 * Backups: repositories (file:// now, object storage next) holding backups
 * with a manifest of checksums, taken physically (mariabackup/xtrabackup) or
 * logically (consistent snapshot over mysql2), verified, and restored into a
 * sandbox or a server that is not the source.
 */
export {
  type ArchiveOptions,
  type ArchiveProgress,
  type ArchiveResult,
  archiveBinlogs,
} from './archive.js';
export { decodeBatchesWithBytes, decodeWithBytes, type EventWithBytes } from './archive-events.js';
export {
  type ArchivedFile,
  type ArchiveIndex,
  findPartialFile,
  nextBinlogFile,
  type PartialFile,
  readArchivedFile,
  readArchivedFileBatches,
  readArchiveIndex,
  readPartialFile,
  readPartialFileBatches,
} from './archive-index.js';
export { type BackupProgress, type CreateBackupOptions, createBackup } from './create.js';
export {
  BACKUP_METHODS,
  type BackupFile,
  type BackupManifest,
  BackupManifestSchema,
  type BackupMethod,
  type ConsistentPoint,
} from './manifest.js';
export { parseBinlogPos } from './physical.js';
export {
  type BackupListing,
  type BackupWriter,
  backupPrefix,
  beginBackup,
  binlogArchivePrefix,
  checkBackupFile,
  type IncompleteBackup,
  listBackups,
  oldestBackupTime,
  openBackupFile,
  openRepository,
  type Repository,
  readManifest,
  withRepositoryLock,
} from './repository.js';
export {
  assertFreeSpace,
  type RestoredBackup,
  type RestoreTarget,
  restoreBackup,
  sandboxTarget,
} from './restore.js';
export { type BackupStorage, openStorage, readJson, type StoredObject, writeJson } from './storage.js';
export {
  type BackupVerification,
  type FileCheck,
  type RestoreTest,
  type VerifyBackupOptions,
  verifyBackup,
} from './verify.js';
