/**
 * Readiness of a source server for exact recovery: every setting and
 * privilege salvage relies on, each with the fix to apply.
 */
import type { Connection, ServerDescription, ServerIdentity } from '../mysql/index.js';
import { describeServer, readGrants } from '../mysql/index.js';
import {
  checkBinlogEnabled,
  checkBinlogFormat,
  checkChecksum,
  checkGtid,
  checkRetention,
  checkRowImage,
  checkRowMetadata,
  checkRowValueOptions,
  checkServerVersion,
  checkStatementText,
} from './binlog-checks.js';
import type { Check } from './check.js';
import { checkPrivileges } from './privilege-checks.js';

/** What preflight needs from a backup repository; the backup module provides it. */
export interface BackupHistory {
  /** When the oldest backup that can still be restored was taken; undefined when there is none. */
  oldestBackupTime(): Promise<Date | undefined>;
}

export interface PreflightOptions {
  readonly backups?: BackupHistory;
  /** The present, for backup ages (tests pin it). */
  readonly now?: Date;
}

export interface PreflightReport {
  readonly server: ServerIdentity;
  readonly checks: readonly Check[];
  /** False when any check failed; warnings do not count. */
  readonly ok: boolean;
}

export async function runPreflight(
  conn: Connection,
  options: PreflightOptions = {},
): Promise<PreflightReport> {
  const server = await describeServer(conn);
  const grants = await readGrants(conn);
  const oldestBackup = options.backups ? await options.backups.oldestBackupTime() : undefined;
  const checks = [
    ...serverChecks(server, oldestBackup, options.now ?? new Date()),
    ...checkPrivileges(grants, server.flavor, server.version),
  ];
  return { server: server.identity, checks, ok: checks.every((check) => check.status !== 'fail') };
}

function serverChecks(server: ServerDescription, oldestBackup: Date | undefined, now: Date): Check[] {
  const checks = [
    checkServerVersion(server),
    checkBinlogEnabled(server),
    checkBinlogFormat(server),
    checkRowImage(server),
    checkRowMetadata(server),
    checkStatementText(server),
    checkChecksum(server),
    checkRowValueOptions(server),
    checkRetention(server, oldestBackup, now),
    checkGtid(server),
  ];
  return checks.filter((check): check is Check => check !== undefined);
}
