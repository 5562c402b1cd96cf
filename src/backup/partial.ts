/** Partial restores: only the tables asked for, and every one of them must be in the backup. */
import { SalvageError } from '../errors.js';
import type { BackupManifest } from './manifest.js';

/** Fails naming the tables (`db.table`) of `tables` that `present` lacks. */
export function assertTablesInBackup(
  tables: ReadonlySet<string>,
  present: ReadonlySet<string>,
  manifest: BackupManifest,
): void {
  const missing = [...tables].filter((t) => !present.has(t));
  if (missing.length === 0) return;
  throw new SalvageError('BAD_INPUT', `backup ${manifest.id} holds no table ${missing.join(', ')}`, {
    hint: 'Name tables as db.table, as the source has them.',
    context: { backup: manifest.id, tables: missing },
  });
}

/** The databases the tables (`db.table`) are in. */
export function databasesOf(tables: ReadonlySet<string>): Set<string> {
  return new Set([...tables].map((t) => t.slice(0, t.indexOf('.'))));
}
