/**
 * The replay step: binlogs from the backup's consistent point applied to the
 * restored sandbox, up to just before the bad change (pitr) or to the end
 * without it (surgical), through the restore module.
 */
import { SalvageError } from '../errors.js';
import type { ConnectTarget } from '../mysql/index.js';
import type { ChosenBackup } from './backups.js';
import type { JsonObject } from './journal.js';

export interface ReplayRequest {
  readonly repo: string;
  readonly source: ConnectTarget;
  readonly target: ConnectTarget;
  readonly backup: ChosenBackup;
  readonly gtids: readonly string[];
  readonly mode: 'before' | 'skip';
}

export async function replayInto(_request: ReplayRequest): Promise<JsonObject> {
  throw new SalvageError('INTERNAL', 'replay is not available yet.');
}
