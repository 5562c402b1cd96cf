/** Readiness checks of a source server: binary log settings, retention, GTIDs, privileges. */
export type { Check, CheckStatus } from './check.js';
export {
  type BackupHistory,
  type PreflightOptions,
  type PreflightReport,
  runPreflight,
} from './preflight.js';
