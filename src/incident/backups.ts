/**
 * The backup a recovery starts from: the newest complete one that does not
 * yet hold any of the bad transactions, told by the GTID state at its
 * consistent point (MariaDB: the last sequence number per domain; MySQL: the
 * executed GTID set).
 */
import type { BackupManifest } from '../backup/index.js';
import type { ReplicationStart } from '../binlog/index.js';

/** What the incident journals about the chosen backup. */
export interface ChosenBackup {
  readonly id: string;
  readonly method: string;
  readonly finished_at: string;
  readonly gtid: string | null;
  readonly binlog: { readonly file: string; readonly position: number } | null;
}

/** `backups` oldest first, as listBackups gives them. */
export function chooseBackup(
  backups: readonly BackupManifest[],
  bad: readonly string[],
): ChosenBackup | undefined {
  for (let i = backups.length - 1; i >= 0; i--) {
    const backup = backups[i]!;
    const point = backup.consistentPoint;
    if (point.gtid === null) continue;
    if (bad.some((gtid) => gtidStateHolds(point.gtid as string, gtid))) continue;
    return {
      id: backup.id,
      method: backup.method,
      finished_at: backup.finishedAt,
      gtid: point.gtid,
      binlog: point.binlog,
    };
  }
  return undefined;
}

/** Whether a GTID state (MariaDB position or MySQL set) already includes `gtid`. */
export function gtidStateHolds(state: string, gtid: string): boolean {
  const entries = state
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const mariadb = /^(\d+)-(\d+)-(\d+)$/.exec(gtid);
  if (mariadb) {
    const [, domain, , seq] = mariadb;
    return entries.some((entry) => {
      const m = /^(\d+)-(\d+)-(\d+)$/.exec(entry);
      return m !== null && m[1] === domain && Number(m[3]) >= Number(seq);
    });
  }
  const cut = gtid.lastIndexOf(':');
  const source = gtid.slice(0, cut).toLowerCase();
  const n = Number(gtid.slice(cut + 1));
  return entries.some((entry) => {
    const parts = entry.split(':');
    const first = parts.findIndex((p) => /^\d+(-\d+)?$/.test(p));
    if (first < 0 || parts.slice(0, first).join(':').toLowerCase() !== source) return false;
    return parts.slice(first).some((range) => {
      const [a, b] = range.split('-').map(Number) as [number, number | undefined];
      return n >= a && n <= (b ?? a);
    });
  });
}

/** Where to read the source's binlog from: the backup's consistent point, else the oldest binlog. */
export function binlogStart(backup: ChosenBackup | null): ReplicationStart {
  if (backup?.binlog) return { kind: 'position', file: backup.binlog.file, position: backup.binlog.position };
  return { kind: 'first' };
}
