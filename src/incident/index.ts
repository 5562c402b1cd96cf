/** The incident runbook: freezing writes at its start and thawing at its end. */

export {
  type Activity,
  type ActivityBucket,
  measureActivity,
  type WriteSpan,
} from './activity.js';
export { type ChosenBackup, chooseBackup, gtidStateHolds } from './backups.js';
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
export { type ConnectionSettings, defaultIncidentDir, type RecoverRequest } from './incident.js';
export {
  canonicalJson,
  createJournal,
  type EntryDraft,
  type Journal,
  type JournalContents,
  type JournalEntry,
  type JsonObject,
  type JsonValue,
  openJournal,
  readJournal,
  type StepStatus,
} from './journal.js';
export { type IncidentDocument, type IncidentOutcome, incidentDocument } from './outcome.js';
export {
  type Loss,
  type PlanFacts,
  planRecovery,
  type RecoveryPlan,
  STRATEGIES,
  type Strategy,
  type StrategyOption,
} from './plan.js';
export { type RecoverOptions, type ResumeOptions, recover, resume } from './recover.js';
export { loss, renderMarkdown, seconds } from './report.js';
export { readIncident, writeIncidentReport } from './report-files.js';
export { renderHtml } from './report-html.js';
export { type RunOptions, type RunResult, runSteps, type Step, type StepResults } from './runner.js';
export { incidentSandboxName } from './steps.js';
export { type IncidentStatus, type IncidentSummary, summarizeIncident } from './summary.js';
