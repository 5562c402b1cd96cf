/**
 * `salvage recover` and `salvage resume`: the runbook as journaled steps.
 *
 *   open → freeze → locate (without --gtid) → backup → impact → plan → approve (--yes)
 *     pitr | surgical:  environment → restore (backup, then binlog replay) → verify
 *     undo:             rehearse (on a clone) → undo (on the source, guarded) → verify
 *   → cutover (the plan, not executed) → report
 *
 * Without --yes the run stops before `approve`, with the plan shown; nothing
 * destructive happens before it. A test hook, SALVAGE_TEST_CRASH_AT=<step>,
 * makes the process SIGKILL itself after that step's work and before its
 * `done` entry (the worst moment for a crash, which resume must survive);
 * `restore` kills after the backup is restored and before the replay,
 * `replay` after the replay and before the step is journaled done.
 */
import { mkdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { SalvageError } from '../errors.js';
import { statementPattern } from '../timeline/index.js';
import {
  type ConnectionSettings,
  defaultIncidentDir,
  journalPath,
  lockIncident,
  parseRequest,
  type RecoverRequest,
  sourceTarget,
} from './incident.js';
import {
  createJournal,
  type Journal,
  type JsonObject,
  lastEntryOf,
  openJournal,
  readJournal,
} from './journal.js';
import { type IncidentOutcome, incidentOutcome } from './outcome.js';
import type { Strategy } from './plan.js';
import { runSteps } from './runner.js';
import { RECOVER_STEPS, type RecoverContext } from './steps.js';

export interface RecoverOptions {
  /** The damaged server's DSN. */
  readonly source: string;
  readonly connection?: ConnectionSettings;
  /** The backup repository URL. */
  readonly repo: string;
  /** The bad transactions, when known; else --migration or --grep finds them. */
  readonly gtids?: readonly string[];
  readonly migration?: string;
  readonly grep?: string;
  /** Default: the plan's recommendation. */
  readonly strategy?: Strategy;
  /** Queries that must return no rows on the recovered data. */
  readonly assertFile?: string;
  /** Where restore sandboxes go (default $SALVAGE_HOME/sandboxes or ~/.salvage/sandboxes). */
  readonly sandboxBaseDir?: string;
  /** Default ./salvage-incident-<timestamp>. */
  readonly incidentDir?: string;
  /** Go past the plan: without it the run stops there. */
  readonly yes?: boolean;
  readonly onProgress?: (message: string) => void;
}

export interface ResumeOptions {
  readonly incidentDir: string;
  readonly yes?: boolean;
  readonly onProgress?: (message: string) => void;
}

/** Opens a new incident and runs it as far as allowed. */
export async function recover(options: RecoverOptions): Promise<IncidentOutcome> {
  const given = [options.gtids?.length ? '--gtid' : undefined, options.migration, options.grep].filter(
    (x) => x !== undefined,
  );
  if (given.length !== 1) {
    throw new SalvageError(
      'USAGE',
      'Name the bad change one way: --gtid G..., --migration ID or --grep RE.',
      {
        hint: 'Find it first with `salvage locate`, or give the GTID from `salvage binlog timeline`.',
      },
    );
  }
  if (options.grep !== undefined) statementPattern(options.grep);
  const dir = resolve(options.incidentDir ?? defaultIncidentDir());
  if (await exists(journalPath(dir))) {
    throw new SalvageError('INCIDENT_EXISTS', `${dir} already holds an incident.`, {
      hint: `Continue it with: salvage resume --incident ${dir}`,
      context: { dir },
    });
  }
  const request: RecoverRequest = {
    source: options.source,
    connection: options.connection ?? {},
    repo: options.repo,
    gtids: [...(options.gtids ?? [])],
    migration: options.migration ?? null,
    grep: options.grep ?? null,
    strategy: options.strategy ?? null,
    assert_file: options.assertFile === undefined ? null : resolve(options.assertFile),
    sandbox_base: options.sandboxBaseDir === undefined ? null : resolve(options.sandboxBaseDir),
  };
  // Fail on a bad DSN or password source before anything is written.
  sourceTarget(request);
  await mkdir(dir, { recursive: true });
  const unlock = await lockIncident(dir);
  try {
    const journal = await createJournal(journalPath(dir));
    await journal.append({ step: 'open', status: 'done', inputs: request as unknown as JsonObject });
    return await drive(dir, journal, request, options);
  } finally {
    await unlock();
  }
}

/** Continues an incident from its journal: same result as a run that was never interrupted. */
export async function resume(options: ResumeOptions): Promise<IncidentOutcome> {
  const dir = resolve(options.incidentDir);
  await readJournal(journalPath(dir));
  const unlock = await lockIncident(dir);
  try {
    const journal = await openJournal(journalPath(dir), options.onProgress);
    const first = journal.entries()[0];
    if (first?.step !== 'open') {
      throw new SalvageError(
        'JOURNAL_BROKEN',
        `The journal in ${dir} does not start with the incident's request.`,
      );
    }
    // A finished incident is only reported again: its sandbox may have been cut over or destroyed since.
    if (lastEntryOf(journal.entries(), 'report')?.status === 'done') {
      return incidentOutcome(dir, journal.entries(), false);
    }
    return await drive(dir, journal, parseRequest(first.inputs, journal.path), options);
  } finally {
    await unlock();
  }
}

async function drive(
  dir: string,
  journal: Journal,
  request: RecoverRequest,
  options: { yes?: boolean; onProgress?: (message: string) => void },
): Promise<IncidentOutcome> {
  const crashAt = process.env.SALVAGE_TEST_CRASH_AT;
  const context: RecoverContext = {
    dir,
    request,
    source: sourceTarget(request),
    progress: options.onProgress ?? (() => {}),
    crashPoint: (point) => {
      if (point === crashAt) process.kill(process.pid, 'SIGKILL');
    },
  };
  const run = await runSteps(journal, RECOVER_STEPS, context, {
    stopBefore: options.yes ? undefined : 'approve',
    onNotice: context.progress,
    beforeDone: context.crashPoint,
  });
  return incidentOutcome(dir, journal.entries(), run.stoppedBefore !== undefined);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
