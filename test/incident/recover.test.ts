/**
 * recover end to end on real sandboxes, for the three strategies, against
 * oracles: a checksum snapshot taken just before the bad change (pitr), and a
 * twin server that ran the same deterministic workload without it (surgical,
 * undo). The surgical run is killed with SIGKILL during restore, during replay
 * and during verify, loses its repository and its sandbox on the way, and
 * each time `resume` carries on to the same checksums.
 */
import { cp, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackup, sandboxTarget } from '../../src/backup/index.js';
import {
  badMigrationStatements,
  SHOP_DDL,
  seededRandom,
  seedStatements,
  shopTransaction,
} from '../../src/demo/index.js';
import { incidentSandboxName } from '../../src/incident/index.js';
import { connect, type Sandbox, startSandbox } from '../support/sandbox.js';
import { destroyIncidentSandbox, portOf, salvage, shopChecksums } from './support.js';

const CUSTOMERS = 40;
let work: string;
let repo: string;
let production: Sandbox;
let twin: Sandbox;
let badGtid: string;
let beforeBad: Record<string, string>;
let laterTransactions = 0;
const incidents: string[] = [];

async function run(servers: readonly Sandbox[], transaction: readonly string[]): Promise<void> {
  for (const server of servers) {
    const conn = await connect(server);
    try {
      await conn.query('BEGIN');
      for (const sql of transaction) await conn.query(sql);
      await conn.query('COMMIT');
    } finally {
      await conn.end();
    }
  }
}

async function lastGtid(server: Sandbox): Promise<string> {
  const conn = await connect(server);
  try {
    const [rows] = await conn.query('SELECT @@gtid_binlog_pos AS pos');
    return String((rows as { pos: string }[])[0]!.pos);
  } finally {
    await conn.end();
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'salvage-recover-'));
  repo = pathToFileURL(join(work, 'repo')).href;
  [production, twin] = await Promise.all([startSandbox(), startSandbox()]);
  for (const sql of [...SHOP_DDL, ...seedStatements(CUSTOMERS)]) await run([production, twin], [sql]);
  await createBackup({ source: sandboxTarget(production), repo, method: 'logical' });
  // The same writes on both servers, in the same order: the twin differs only by the bad UPDATE.
  const random = seededRandom(7);
  for (let step = 0; step < 15; step++) {
    await run([production, twin], shopTransaction(random, step, { customers: CUSTOMERS }));
  }
  beforeBad = await shopChecksums(production.port);
  const [badUpdate, history] = badMigrationStatements() as [string[], string[]];
  await run([production], badUpdate);
  badGtid = await lastGtid(production);
  await run([production, twin], history);
  for (let step = 15; step < 30; step++) {
    await run([production, twin], shopTransaction(random, step, { customers: CUSTOMERS }));
  }
  // What the binlog holds after the bad change (an UPDATE that changed no row writes no transaction).
  const seq = (gtid: string) => Number(gtid.split('-')[2]);
  laterTransactions = seq(await lastGtid(production)) - seq(badGtid);
});

afterAll(async () => {
  for (const dir of incidents) await destroyIncidentSandbox(incidentSandboxName(dir));
  await rm(work, { recursive: true, force: true });
});

function recoverArgs(dir: string, strategy: string, extra: string[] = []): string[] {
  incidents.push(dir);
  return [
    'recover',
    '--source',
    production.dsn,
    '--repo',
    repo,
    '--gtid',
    badGtid,
    '--strategy',
    strategy,
    '--incident',
    dir,
    '--ssl-mode',
    'disabled',
    ...extra,
  ];
}

describe('salvage recover', () => {
  it('pitr: restores exactly the state just before the bad change, and says what it lost', async () => {
    const dir = join(work, 'pitr');
    const assertions = join(work, 'no-null-emails.sql');
    await writeFile(assertions, 'SELECT id FROM shop.customers WHERE email IS NULL;\n');
    const result = await salvage([...recoverArgs(dir, 'pitr'), '--assert', assertions, '--yes', '--json']);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({ status: 'recovered', strategy: 'pitr', gtids: [badGtid] });
    expect(doc.lost.transactions).toBe(laterTransactions);
    expect(doc.rpo).toEqual(doc.lost);
    expect(doc.kept.transactions).toBe(0);
    expect(doc.verify.equal).toBe(true);
    expect(doc.verify.assertions).toEqual([
      { statement: expect.stringContaining('email IS NULL'), passed: true, rows: 0 },
    ]);
    expect(doc.rto_s).toBeGreaterThan(0);
    expect(await shopChecksums(portOf(doc.dsn))).toEqual(beforeBad);
    await destroyIncidentSandbox(incidentSandboxName(dir));
  });

  it('stops at the plan without --yes, and refuses a second recover on the same directory', async () => {
    const dir = join(work, 'plan-only');
    const planned = await salvage([...recoverArgs(dir, 'surgical'), '--json']);
    expect(planned.code).toBe(0);
    const doc = JSON.parse(planned.stdout);
    expect(doc.status).toBe('planned');
    expect(doc.dsn).toBeNull();
    expect(doc.next).toBe(`salvage resume --incident ${dir} --yes`);
    expect(doc.plan.options.map((o: { strategy: string }) => o.strategy)).toEqual([
      'pitr',
      'surgical',
      'undo',
    ]);
    expect(doc.plan.options[0].lost.transactions).toBe(laterTransactions);

    const again = await salvage(recoverArgs(dir, 'surgical'));
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('INCIDENT_EXISTS');
    expect(again.stderr).toContain(`salvage resume --incident ${dir}`);
  });

  it('surgical: survives kill -9 in restore, replay and verify, a lost repository and a lost sandbox', {
    timeout: 240_000,
  }, async () => {
    const dir = join(work, 'surgical');
    const killedInRestore = await salvage([...recoverArgs(dir, 'surgical'), '--yes'], {
      SALVAGE_TEST_CRASH_AT: 'restore',
    });
    expect(killedInRestore.signal).toBe('SIGKILL');

    const killedInReplay = await salvage(['resume', '--incident', dir, '--yes'], {
      SALVAGE_TEST_CRASH_AT: 'replay',
    });
    expect(killedInReplay.signal).toBe('SIGKILL');
    expect(killedInReplay.stderr).toMatch(/Step restore did not finish \(started\)/);

    // The repository is unreachable: the step fails and says so; resume retries it.
    const repoDir = join(work, 'repo');
    await rename(repoDir, `${repoDir}.away`);
    const noRepo = await salvage(['resume', '--incident', dir, '--yes']);
    await rename(`${repoDir}.away`, repoDir);
    expect(noRepo.code).toBe(2);
    expect(noRepo.stderr).toContain('REPOSITORY_NOT_FOUND');

    const killedInVerify = await salvage(['resume', '--incident', dir, '--yes'], {
      SALVAGE_TEST_CRASH_AT: 'verify',
    });
    expect(killedInVerify.signal).toBe('SIGKILL');

    // The restore environment is lost before the next resume: it is made again.
    await destroyIncidentSandbox(incidentSandboxName(dir));
    const finished = await salvage(['resume', '--incident', dir, '--yes', '--json']);
    expect(finished.stderr).toMatch(/What step restore built is gone/);
    expect(finished.code).toBe(0);
    const doc = JSON.parse(finished.stdout);
    expect(doc).toMatchObject({
      status: 'recovered',
      strategy: 'surgical',
      lost: { transactions: 0, rows: 0 },
    });
    expect(doc.kept.transactions).toBe(laterTransactions);
    expect(doc.conflicts.rows).toBe(0);
    expect(doc.verify.equal).toBe(true);
    expect(doc.verify.not_compared.map((t: { table: string }) => t.table)).toEqual(['shop.customers']);
    expect(await shopChecksums(portOf(doc.dsn))).toEqual(await shopChecksums(twin.port));

    const journal = (await readFile(join(dir, 'journal.ndjson'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const restores = journal.filter((e) => e.step === 'restore');
    expect(restores.filter((e) => e.status === 'started')).toHaveLength(5);
    expect(restores.filter((e) => e.status === 'failed')).toHaveLength(1);

    // A finished incident resumes to the same document without redoing anything.
    const again = await salvage(['resume', '--incident', dir, '--json']);
    expect(JSON.parse(again.stdout).dsn).toBe(doc.dsn);

    // A hand edit of the journal is refused.
    const edited = join(work, 'edited');
    await cp(dir, edited, { recursive: true });
    const text = await readFile(join(edited, 'journal.ndjson'), 'utf8');
    await writeFile(
      join(edited, 'journal.ndjson'),
      text.replace('"strategy":"surgical"', '"strategy":"pitr"'),
    );
    const refused = await salvage(['resume', '--incident', edited]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('JOURNAL_BROKEN');
  });

  it('undo: repairs the source in place to what the twin holds', async () => {
    const dir = join(work, 'undo');
    const result = await salvage([...recoverArgs(dir, 'undo'), '--yes', '--json']);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({ status: 'recovered', strategy: 'undo', dsn: production.dsn });
    expect(doc.lost.transactions).toBe(0);
    expect(doc.verify.equal).toBe(true);
    expect(await shopChecksums(production.port)).toEqual(await shopChecksums(twin.port));
  });
});
