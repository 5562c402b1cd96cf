import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackup, sandboxTarget } from '../../src/backup/index.js';
import { runSalvage } from '../support/cli.js';
import { isProcessAlive, type Sandbox, sql, startSandbox } from '../support/sandbox.js';

let source: Sandbox;
let home: string;
let repo: string;
let last: string;

interface Registered {
  readonly name: string;
  readonly pid: number;
  readonly dir: string;
  readonly ownerPid: number;
  readonly provisional?: boolean;
}

async function registered(): Promise<Registered[]> {
  const text = await readFile(join(home, 'sandboxes', 'registry.json'), 'utf8').catch(() => '');
  return text === ''
    ? []
    : Object.values((JSON.parse(text) as { sandboxes: Record<string, Registered> }).sandboxes);
}

function restoreCli(): ReturnType<typeof runSalvage> {
  return runSalvage(
    [
      'restore',
      '--repo',
      repo,
      '--into',
      'sandbox',
      '--source',
      source.dsn,
      '--after',
      last,
      '--ssl-mode',
      'disabled',
      '--json',
    ],
    { env: { SALVAGE_HOME: home, SALVAGE_PASSWORD: undefined, MYSQL_PWD: undefined } },
  );
}

beforeAll(async () => {
  source = await startSandbox();
  home = await mkdtemp(join(tmpdir(), 'salvage-restore-cli-'));
  repo = `file://${join(home, 'repo')}`;
  await sql(source, 'CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(40))');
  await createBackup({ source: sandboxTarget(source), repo, method: 'physical' });
  // Enough transactions after the backup that the replay is still running when the test kills it.
  for (let batch = 0; batch < 100; batch++) {
    const values = Array.from({ length: 100 }, (_, i) => batch * 100 + i);
    await sql(source, values.map((id) => `INSERT INTO app.t VALUES (${id}, 'row ${id}')`).join(';'));
  }
  const [row] = await sql<{ pos: string }>(source, 'SELECT @@gtid_binlog_pos AS pos');
  last = row?.pos ?? '';
}, 120_000);

afterAll(async () => {
  // Whatever a failed assertion left behind, through the CLI's own cleanup.
  for (const sandbox of await registered()) {
    await runSalvage(['sandbox', 'destroy', sandbox.name], { env: { SALVAGE_HOME: home } });
  }
  await rm(home, { recursive: true, force: true });
});

describe('salvage restore --into sandbox', () => {
  it('killed with -9 in the middle leaves no sandbox once salvage next looks; finished, it keeps it', async () => {
    let finished: Awaited<ReturnType<typeof runSalvage>> | undefined;
    const run = restoreCli().then((result) => {
      finished = result;
      return result;
    });
    let half: Registered | undefined;
    while (half === undefined && finished === undefined) {
      half = (await registered()).find((r) => r.provisional);
      if (half === undefined) await sleep(10);
    }
    if (half === undefined)
      throw new Error(
        `the restore ended (${finished?.code}) before it could be killed: ${finished?.stdout} ${finished?.stderr}`,
      );
    process.kill(half.ownerPid, 'SIGKILL');
    const killed = await run;
    expect(killed.signal, `the restore ended by itself first: ${killed.stdout}`).toBe('SIGKILL');
    // Half a restore, still registered; its detached server (restarted on the restored data, so
    // read its pid again) outlives the killed restore unless the kill fell between two starts.
    const left = (await registered()).find((r) => r.name === half?.name);
    expect(left?.provisional, 'registered as provisional after the kill').toBe(true);
    const server = left?.pid ?? half.pid;
    const list = await runSalvage(['sandbox', 'list', '--json'], { env: { SALVAGE_HOME: home } });
    expect(list.code).toBe(0);
    expect(list.stdout, 'the next listing removes the half restore').not.toContain(half.name);
    expect(await registered()).toEqual([]);
    expect(isProcessAlive(server), 'its server is stopped').toBe(false);
    await expect(stat(half.dir)).rejects.toThrow();

    const done = await restoreCli();
    expect(done.code).toBe(0);
    const report = JSON.parse(done.stdout) as { sandbox: string; replayed: number; applier: string };
    expect(report.replayed).toBe(10000);
    expect(report.applier).toBe('server');
    const kept = await registered();
    expect(kept.map((r) => [r.name, r.provisional])).toEqual([[report.sandbox, false]]);
    expect(isProcessAlive((kept[0] as Registered).pid)).toBe(true);
  }, 240_000);
});
