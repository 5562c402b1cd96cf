/** The incident runbook: freezing writes at its start and thawing at its end. */
export {
  defaultStatePath,
  type FreezeOptions,
  type FreezeReport,
  freeze,
  listOpenWriters,
  type OpenWriter,
  readWriteState,
  type SettingChange,
  type ThawReport,
  thaw,
  type WriteState,
} from './freeze.js';
