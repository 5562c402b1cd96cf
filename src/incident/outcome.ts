/**
 * What `recover` and `resume` hand back: the incident's summary and the final
 * document (--json), whose fields are a contract.
 */
import type { JournalEntry } from './journal.js';
import { type IncidentSummary, summarizeIncident } from './summary.js';

export interface IncidentOutcome {
  readonly summary: IncidentSummary;
  /** True when the run stopped at the plan for want of --yes. */
  readonly awaitingApproval: boolean;
  readonly document: IncidentDocument;
}

/** The --json document of recover and resume. */
export interface IncidentDocument {
  readonly incident: string;
  readonly status: IncidentSummary['status'];
  readonly source: string;
  readonly dsn: string | null;
  readonly strategy: IncidentSummary['strategy'];
  readonly gtids: readonly string[];
  readonly lost: IncidentSummary['lost'];
  readonly kept: IncidentSummary['kept'];
  readonly conflicts: IncidentSummary['conflicts'];
  readonly verify: IncidentSummary['verify'];
  readonly rto_s: number | null;
  readonly rpo: IncidentSummary['rpo'];
  readonly plan: IncidentSummary['plan'];
  readonly cutover: IncidentSummary['cutover'];
  readonly report: IncidentSummary['report'];
  /** The command that continues this incident, when it is not finished. */
  readonly next: string | null;
}

export function incidentOutcome(
  dir: string,
  entries: readonly JournalEntry[],
  awaitingApproval: boolean,
): IncidentOutcome {
  const summary = summarizeIncident(dir, entries);
  return { summary, awaitingApproval, document: incidentDocument(summary, awaitingApproval) };
}

export function incidentDocument(summary: IncidentSummary, awaitingApproval = false): IncidentDocument {
  return {
    incident: summary.dir,
    status: summary.status,
    source: summary.source,
    dsn: summary.dsn,
    strategy: summary.strategy,
    gtids: summary.gtids,
    lost: summary.lost,
    kept: summary.kept,
    conflicts: summary.conflicts,
    verify: summary.verify,
    rto_s: summary.rto_s,
    rpo: summary.rpo,
    plan: summary.plan,
    cutover: summary.cutover,
    report: summary.report,
    next: awaitingApproval ? `salvage resume --incident ${summary.dir} --yes` : null,
  };
}
