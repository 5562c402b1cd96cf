/**
 * The runbook as a state machine over journaled steps. A step whose last
 * entry is `done` is not run again (its outputs are read back from the
 * journal); one that `started` or `failed` runs again, from the step it names
 * as its restart point when running it twice on the same state would be wrong.
 * Once a step runs again, every step after it does too.
 */
import { SalvageError } from '../errors.js';
import { type Journal, type JsonObject, lastEntryOf } from './journal.js';

/** Outputs of the steps done so far, by step name. */
export type StepResults = ReadonlyMap<string, JsonObject>;

export interface Step<Context> {
  readonly name: string;
  /** Whether this step belongs to this run (default: always). */
  applies?(context: Context, results: StepResults): boolean;
  /** What the step is about to do, journaled with `started`. */
  inputs?(context: Context, results: StepResults): JsonObject;
  run(context: Context, results: StepResults, inputs: JsonObject): Promise<JsonObject>;
  /** Where to start again when this step was interrupted (default: the step itself). */
  readonly restartFrom?: string;
  /**
   * On resume, whether what this done step built still exists (a sandbox that
   * may have been lost). When not, the run starts again at `restartFrom`.
   */
  stillValid?(context: Context, outputs: JsonObject): Promise<boolean>;
}

export interface RunOptions {
  /** Stop before this step (it is not run): the confirmation gate. */
  readonly stopBefore?: string;
  readonly onNotice?: (message: string) => void;
  /** Called after a step's work and before its `done` entry: the crash hook of the tests. */
  readonly beforeDone?: (step: string) => void;
}

export interface RunResult {
  readonly results: StepResults;
  /** The step the run stopped before, when it stopped at the gate. */
  readonly stoppedBefore: string | undefined;
}

export async function runSteps<Context>(
  journal: Journal,
  steps: readonly Step<Context>[],
  context: Context,
  options: RunOptions = {},
): Promise<RunResult> {
  const results = new Map<string, JsonObject>();
  const indexOf = (name: string): number => {
    const index = steps.findIndex((s) => s.name === name);
    if (index < 0) throw new SalvageError('INTERNAL', `No step named ${name}.`);
    return index;
  };
  let rerun = false;
  for (let i = 0; i < steps.length; ) {
    const step = steps[i]!;
    if (step.applies && !step.applies(context, results)) {
      results.delete(step.name);
      i++;
      continue;
    }
    const last = lastEntryOf(journal.entries(), step.name);
    if (!rerun && last?.status === 'done') {
      if (step.stillValid && !(await step.stillValid(context, last.outputs))) {
        const from = step.restartFrom ?? step.name;
        options.onNotice?.(`What step ${step.name} built is gone; running again from step ${from}.`);
        i = indexOf(from);
        rerun = true;
        continue;
      }
      results.set(step.name, last.outputs);
      i++;
      continue;
    }
    if (!rerun && last !== undefined && step.restartFrom !== undefined && step.restartFrom !== step.name) {
      options.onNotice?.(
        `Step ${step.name} did not finish (${last.status}); running again from step ${step.restartFrom}.`,
      );
      i = indexOf(step.restartFrom);
      rerun = true;
      continue;
    }
    if (step.name === options.stopBefore) return { results, stoppedBefore: step.name };
    if (!rerun && last !== undefined && last.status !== 'done') {
      options.onNotice?.(`Step ${step.name} did not finish (${last.status}); running it again.`);
    }
    results.set(step.name, await runStep(journal, step, context, results, options));
    // The steps after one that ran again were built on its previous result.
    if (last !== undefined) rerun = true;
    i++;
  }
  return { results, stoppedBefore: undefined };
}

async function runStep<Context>(
  journal: Journal,
  step: Step<Context>,
  context: Context,
  results: StepResults,
  options: RunOptions,
): Promise<JsonObject> {
  const inputs = step.inputs?.(context, results) ?? {};
  const started = await journal.append({ step: step.name, status: 'started', inputs });
  let outputs: JsonObject;
  try {
    outputs = await step.run(context, results, inputs);
  } catch (error) {
    await journal.append({
      step: step.name,
      status: 'failed',
      inputs,
      outputs: errorOutputs(error),
      startedAt: started.started_at,
    });
    throw error;
  }
  options.beforeDone?.(step.name);
  await journal.append({ step: step.name, status: 'done', inputs, outputs, startedAt: started.started_at });
  return outputs;
}

function errorOutputs(error: unknown): JsonObject {
  if (error instanceof SalvageError)
    return { error: { code: error.code, message: error.message, hint: error.hint } };
  return {
    error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error), hint: '' },
  };
}
