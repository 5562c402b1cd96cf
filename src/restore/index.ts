/**
 * Point-in-time restore: a backup restored into a clean environment, then the
 * binlog replayed exactly to a cut point, or to the end without chosen
 * transactions (reporting later writes to the rows they changed).
 */
export { type Conflict, findConflicts } from './conflicts.js';
export {
  type CutFlags,
  type CutPoint,
  checkGtid,
  cutAt,
  describeCut,
  parseCutPoint,
  type ResolvedCut,
} from './cut-point.js';
export { type ReplayOptions, type ReplayResult, replayBinlog } from './replay.js';
export { type RelayReplayOptions, relayReplayRefusal, replayWithServerApplier } from './replay-relay.js';
export {
  type Applier,
  type RestoreInto,
  type RestoreOptions,
  type RestoreProgress,
  type RestoreReport,
  restoreToPoint,
} from './restore.js';
