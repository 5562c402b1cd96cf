import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createJournal,
  openJournal,
  planRecovery,
  readJournal,
  runSteps,
  type Step,
} from '../../src/incident/index.js';

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'salvage-runner-'));
  path = join(dir, 'journal.ndjson');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

interface World {
  ran: string[];
  built: boolean;
  failOnce: Set<string>;
}

const steps: Step<World>[] = [
  {
    name: 'a',
    run: async (w) => {
      w.ran.push('a');
      return { a: 1 };
    },
  },
  {
    name: 'build',
    restartFrom: 'build',
    stillValid: async (w) => w.built,
    run: async (w) => {
      w.ran.push('build');
      w.built = true;
      return { built: true };
    },
  },
  {
    name: 'use',
    restartFrom: 'build',
    run: async (w, results) => {
      w.ran.push('use');
      if (w.failOnce.delete('use')) throw new Error('use failed');
      return { saw: results.get('build')?.built ?? false };
    },
  },
  {
    name: 'gate',
    run: async (w) => {
      w.ran.push('gate');
      return {};
    },
  },
  {
    name: 'last',
    run: async (w) => {
      w.ran.push('last');
      return { done: true };
    },
  },
];

describe('runSteps', () => {
  it('runs every step once and reads done steps back instead of running them again', async () => {
    const world: World = { ran: [], built: false, failOnce: new Set() };
    const journal = await createJournal(path);
    await runSteps(journal, steps, world);
    expect(world.ran).toEqual(['a', 'build', 'use', 'gate', 'last']);
    const again = await runSteps(await openJournal(path), steps, world);
    expect(world.ran).toHaveLength(5);
    expect(again.results.get('use')).toEqual({ saw: true });
  });

  it('stops before the gate, and goes on from there later', async () => {
    const world: World = { ran: [], built: false, failOnce: new Set() };
    const first = await runSteps(await createJournal(path), steps, world, { stopBefore: 'gate' });
    expect(first.stoppedBefore).toBe('gate');
    expect(world.ran).toEqual(['a', 'build', 'use']);
    await runSteps(await openJournal(path), steps, world);
    expect(world.ran).toEqual(['a', 'build', 'use', 'gate', 'last']);
  });

  it('after a failure, runs again from the step it names as its restart point', async () => {
    const world: World = { ran: [], built: false, failOnce: new Set(['use']) };
    await expect(runSteps(await createJournal(path), steps, world)).rejects.toThrow('use failed');
    const notices: string[] = [];
    await runSteps(await openJournal(path), steps, world, { onNotice: (n) => notices.push(n) });
    expect(world.ran).toEqual(['a', 'build', 'use', 'build', 'use', 'gate', 'last']);
    expect(notices).toEqual(['Step use did not finish (failed); running again from step build.']);
    const { entries } = await readJournal(path);
    expect(entries.filter((e) => e.step === 'use').map((e) => e.status)).toEqual([
      'started',
      'failed',
      'started',
      'done',
    ]);
    expect(entries.find((e) => e.status === 'failed')?.outputs).toMatchObject({
      error: { message: 'use failed' },
    });
  });

  it('rebuilds what a done step built when it is gone, and every step after it', async () => {
    const world: World = { ran: [], built: false, failOnce: new Set() };
    await runSteps(await createJournal(path), steps, world, { stopBefore: 'last' });
    world.built = false;
    world.ran = [];
    await runSteps(await openJournal(path), steps, world);
    expect(world.ran).toEqual(['build', 'use', 'gate', 'last']);
  });
});

describe('planRecovery', () => {
  const facts = {
    bad: { transactions: 1, rows: 300, schema_changes: 0 },
    after: { transactions: 40, rows: 90, seconds: 12.5 },
    conflicts: 0,
    backup: '20240501T090000000Z-abcd',
  };

  it('recommends undo when no later write touched the damaged rows', () => {
    const plan = planRecovery(facts);
    expect(plan.recommended).toBe('undo');
    expect(plan.chosen).toBe('undo');
    const pitr = plan.options.find((o) => o.strategy === 'pitr')!;
    expect(pitr.lost).toEqual(facts.after);
    expect(plan.options.find((o) => o.strategy === 'surgical')!.kept).toEqual({ transactions: 40, rows: 90 });
  });

  it('recommends surgical when later writes touched the damaged rows, and pitr is never free', () => {
    const plan = planRecovery({ ...facts, conflicts: 3 }, 'pitr');
    expect(plan.recommended).toBe('surgical');
    expect(plan.why).toMatch(/3 rows changed again/);
    expect(plan.chosen).toBe('pitr');
  });

  it('refuses undo for a schema change and restores without a backup', () => {
    expect(() => planRecovery({ ...facts, bad: { ...facts.bad, schema_changes: 1 } }, 'undo')).toThrow(
      /schema/,
    );
    expect(planRecovery({ ...facts, backup: null, conflicts: 5 }).recommended).toBe('undo');
    expect(() => planRecovery({ ...facts, backup: null, bad: { ...facts.bad, schema_changes: 1 } })).toThrow(
      /No strategy/,
    );
  });
});
