/**
 * An incident as read back from its journal: what was decided, done and
 * measured. The final --json document and both reports are views of it, so
 * they can never disagree.
 */
import { SalvageError } from '../errors.js';
import type { Activity } from './activity.js';
import { type JournalEntry, lastEntryOf } from './journal.js';
import type { Loss, RecoveryPlan, Strategy, StrategyOption } from './plan.js';
import type { ImpactOutputs, VerifyOutputs } from './steps.js';

export type IncidentStatus = 'planned' | 'in progress' | 'failed' | 'recovered' | 'verification failed';

export interface StepTiming {
  readonly step: string;
  readonly status: 'started' | 'done' | 'failed';
  /** First start of the step (an interrupted attempt included). */
  readonly started_at: string;
  readonly ended_at: string | null;
  readonly attempts: number;
  readonly error: string | null;
}

export interface IncidentSummary {
  readonly dir: string;
  readonly status: IncidentStatus;
  readonly source: string;
  readonly gtids: readonly string[];
  readonly strategy: Strategy | null;
  readonly plan: RecoveryPlan | null;
  readonly impact: ImpactOutputs | null;
  readonly verify: VerifyOutputs | null;
  /** The server holding the recovered data: the restored sandbox, or the source for undo. */
  readonly dsn: string | null;
  readonly lost: Loss | null;
  readonly kept: StrategyOption['kept'] | null;
  readonly conflicts: { readonly rows: number; readonly sample: readonly unknown[] };
  /** Measured: the freeze's start to the verification's end. */
  readonly rto_s: number | null;
  readonly rpo: Loss | null;
  readonly frozen_at: string | null;
  readonly verified_at: string | null;
  readonly cutover: { readonly steps: readonly string[]; readonly rollback: string } | null;
  readonly report: { readonly markdown: string; readonly html: string } | null;
  readonly steps: readonly StepTiming[];
  /** The outputs of every done step, for what the views above do not cover. */
  readonly outputs: Readonly<Record<string, Record<string, unknown>>>;
}

export function summarizeIncident(dir: string, entries: readonly JournalEntry[]): IncidentSummary {
  const open = entries[0];
  if (open?.step !== 'open') {
    throw new SalvageError(
      'JOURNAL_BROKEN',
      `The journal in ${dir} does not start with the incident's request.`,
    );
  }
  const outputs: Record<string, Record<string, unknown>> = {};
  const steps: StepTiming[] = [];
  for (const entry of entries) {
    let timing = steps.find((s) => s.step === entry.step) as
      | { -readonly [K in keyof StepTiming]: StepTiming[K] }
      | undefined;
    if (timing === undefined) {
      timing = {
        step: entry.step,
        status: entry.status,
        started_at: entry.started_at,
        ended_at: null,
        attempts: 0,
        error: null,
      };
      steps.push(timing);
    }
    timing.status = entry.status;
    if (entry.status === 'started') timing.attempts += 1;
    timing.ended_at = entry.ended_at;
    const error = entry.outputs.error as { message?: string } | undefined;
    timing.error = entry.status === 'failed' ? (error?.message ?? 'failed') : null;
    if (entry.status === 'done') outputs[entry.step] = entry.outputs;
  }
  const plan = (outputs.plan as unknown as RecoveryPlan | undefined) ?? null;
  const impact = (outputs.impact as unknown as ImpactOutputs | undefined) ?? null;
  const verify = (outputs.verify as unknown as VerifyOutputs | undefined) ?? null;
  const strategy = plan?.chosen ?? null;
  const option = plan?.options.find((o) => o.strategy === strategy) ?? null;
  const source = String(open.inputs.source);
  const freeze = lastEntryOf(entries, 'freeze');
  const firstFreeze = entries.find((e) => e.step === 'freeze');
  const verified = lastEntryOf(entries, 'verify');
  const rto =
    firstFreeze && verified?.status === 'done' && verified.ended_at
      ? round((Date.parse(verified.ended_at) - Date.parse(firstFreeze.started_at)) / 1000)
      : null;
  const failed = steps.some((s) => s.status === 'failed') && steps.at(-1)?.status === 'failed';
  const status: IncidentStatus = verify
    ? verify.equal
      ? 'recovered'
      : 'verification failed'
    : failed
      ? 'failed'
      : outputs.plan && !outputs.approve && steps.at(-1)?.step === 'plan'
        ? 'planned'
        : 'in progress';
  const restored = outputs.restore as { dsn?: string } | undefined;
  return {
    dir,
    status,
    source,
    gtids: impact?.gtids ?? (open.inputs.gtids as string[]),
    strategy,
    plan,
    impact,
    verify,
    dsn: strategy === 'undo' ? source : (restored?.dsn ?? null),
    lost: option?.lost ?? null,
    kept: option?.kept ?? null,
    conflicts: conflictsOf(strategy, outputs, impact),
    rto_s: rto,
    rpo: option?.lost ?? null,
    frozen_at: freeze?.status === 'done' ? String(freeze.outputs.frozen_at) : null,
    verified_at: verify?.verified_at ?? null,
    cutover: (outputs.cutover as unknown as IncidentSummary['cutover']) ?? null,
    report: (outputs.report as unknown as IncidentSummary['report']) ?? null,
    steps,
    outputs,
  };
}

/**
 * Rows the bad change touched that later transactions changed again: as the
 * replay or the undo found them when they ran, else as the impact measured.
 * A point-in-time restore drops the later writes, so it has none.
 */
function conflictsOf(
  strategy: Strategy | null,
  outputs: Record<string, Record<string, unknown>>,
  impact: ImpactOutputs | null,
): IncidentSummary['conflicts'] {
  if (strategy === 'pitr') return { rows: 0, sample: [] };
  const found = (strategy === 'undo' ? outputs.undo?.conflicts : outputs.restore?.conflicts) as
    | unknown[]
    | undefined;
  if (found !== undefined) return { rows: found.length, sample: found.slice(0, 20) };
  return { rows: impact?.later_writes ?? 0, sample: impact?.later_write_sample ?? [] };
}

/** The activity the chart draws, when the impact step ran. */
export function activityOf(summary: IncidentSummary): Activity | null {
  return summary.impact?.activity ?? null;
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
