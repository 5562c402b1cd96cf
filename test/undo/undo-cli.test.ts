/**
 * salvage impact and salvage undo against a real server: later writes to some
 * of the bad rows are exactly the conflicts; skip undoes the rest; a failing
 * rehearsal assertion leaves the source untouched; an unknown GTID is exit 2.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackup, sandboxTarget } from '../../src/backup/index.js';
import { runSalvageInProcess } from '../support/cli.js';
import { type Sandbox, sql, startSandbox, TEST_SANDBOX_BASE } from '../support/sandbox.js';

let server: Sandbox;
let binlogDir: string;
let work: string;
let bad: string;
let laterA: string;
let laterB: string;
const savedHome = process.env.SALVAGE_HOME;

async function gtidNow(): Promise<string> {
  const [row] = await sql<{ g: string }>(server, 'SELECT @@gtid_binlog_pos AS g');
  return String(row?.g);
}

/** Runs the CLI in this process. */
function salvage(...args: string[]): ReturnType<typeof runSalvageInProcess> {
  return runSalvageInProcess(args);
}

async function statuses(): Promise<string[]> {
  const rows = await sql<{ status: string }>(server, 'SELECT status FROM app.accounts ORDER BY id');
  return rows.map((r) => r.status);
}

async function checksum(): Promise<string> {
  const [row] = await sql<{ Checksum: string }>(server, 'CHECKSUM TABLE app.accounts EXTENDED');
  return String(row?.Checksum);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'salvage-undo-'));
  process.env.SALVAGE_HOME = join(TEST_SANDBOX_BASE, '..', 'salvage-undo-home');
  server = await startSandbox();
  binlogDir = join(server.dir, 'binlog');
  await sql(
    server,
    `CREATE DATABASE app; CREATE DATABASE seq;
     CREATE TABLE app.accounts (id INT PRIMARY KEY, status VARCHAR(10) NOT NULL, balance DECIMAL(10,2) NOT NULL);
     INSERT INTO app.accounts SELECT seq, 'paid', seq * 10 FROM seq.seq_1_to_20;`,
  );
  await sql(server, "UPDATE app.accounts SET status = 'void' WHERE id <= 10");
  bad = await gtidNow();
  await sql(server, 'UPDATE app.accounts SET balance = balance + 1 WHERE id IN (2, 5, 15)');
  laterA = await gtidNow();
  await sql(server, "UPDATE app.accounts SET status = 'held' WHERE id = 5");
  laterB = await gtidNow();
});

afterAll(() => {
  if (savedHome === undefined) delete process.env.SALVAGE_HOME;
  else process.env.SALVAGE_HOME = savedHome;
});

describe('salvage impact', () => {
  it('counts the rows and finds exactly the later writes to them', async () => {
    const run = await salvage('impact', '--source', server.dsn, '--gtid', bad, '--dir', binlogDir, '--json');
    expect(run.code, run.stderr + run.stdout).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.tables).toEqual([
      {
        table: 'app.accounts',
        inserted: 0,
        updated: 10,
        deleted: 0,
        columns: [
          { column: 'status', rows: 10, transitions: [{ from: 'paid', to: 'void', rows: 10 }], more: false },
        ],
      },
    ]);
    const later = report.laterWrites.map((w: { key: { id: number }; later: string[] }) => [
      w.key.id,
      w.later,
    ]);
    expect(later.sort()).toEqual([
      [2, [laterA]],
      [5, [laterA, laterB]],
    ]);
    expect(report.laterTransactions).toBe(2);
  });
});

describe('salvage undo', () => {
  it('refuses a GTID that is not in the binlog with exit 2', async () => {
    const run = await salvage(
      'undo',
      '--source',
      server.dsn,
      '--gtid',
      '0-1-999999',
      '--dir',
      binlogDir,
      '--json',
    );
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout).error.code).toBe('GTID_NOT_FOUND');
  });

  it('reports exactly the rows changed since as conflicts and exits 1 without writing', async () => {
    const out = join(work, 'blocked.sql');
    const run = await salvage(
      'undo',
      '--source',
      server.dsn,
      '--gtid',
      bad,
      '--dir',
      binlogDir,
      '--out',
      out,
      '--json',
    );
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout);
    expect(result.rows).toBe(8);
    const conflicts = result.conflicts.map(
      (c: { key: { id: number }; later: string[]; current: unknown }) => ({
        id: c.key.id,
        later: c.later,
        current: c.current,
      }),
    );
    expect(conflicts.sort((a: { id: number }, b: { id: number }) => a.id - b.id)).toEqual([
      { id: 2, later: [laterA], current: { id: 2, status: 'void', balance: '21.00' } },
      { id: 5, later: [laterA, laterB], current: { id: 5, status: 'held', balance: '51.00' } },
    ]);
    expect(existsSync(out)).toBe(false);
  });

  it('shows the plan and changes nothing without --yes', async () => {
    const before = await checksum();
    const run = await salvage(
      'undo',
      '--source',
      server.dsn,
      '--gtid',
      bad,
      '--dir',
      binlogDir,
      '--on-conflict',
      'skip',
      '--apply',
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('UPDATE `app`.`accounts`');
    expect(await checksum()).toBe(before);
  });

  it('leaves the source untouched when the rehearsal assertion fails', async () => {
    const before = await checksum();
    const assertion = join(work, 'assert.sql');
    await writeFile(assertion, "SELECT id FROM app.accounts WHERE status = 'paid';\n");
    const run = await salvage(
      'undo',
      '--source',
      server.dsn,
      '--gtid',
      bad,
      '--dir',
      binlogDir,
      '--on-conflict',
      'skip',
      '--apply',
      '--yes',
      '--test-on',
      'sandbox',
      '--assert',
      assertion,
      '--out',
      join(work, 'rehearsed.sql'),
      '--json',
    );
    expect(run.code, run.stdout).toBe(1);
    expect(JSON.parse(run.stdout).error.code).toBe('CHECK_FAILED');
    expect(await checksum()).toBe(before);
  });

  it('undoes every other row with --on-conflict skip and saves the rows it touched', async () => {
    const out = join(work, 'undo.sql');
    const assertion = join(work, 'assert-ok.sql');
    await writeFile(assertion, "SELECT id FROM app.accounts WHERE status NOT IN ('paid', 'void', 'held');\n");
    const run = await salvage(
      'undo',
      '--source',
      server.dsn,
      '--gtid',
      bad,
      '--dir',
      binlogDir,
      '--on-conflict',
      'skip',
      '--apply',
      '--yes',
      '--test-on',
      'sandbox',
      '--assert',
      assertion,
      '--out',
      out,
      '--json',
    );
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ statements: 8, rows: 8, applied: true, sameAsRehearsal: true });
    const expected = Array.from({ length: 20 }, (_, i) =>
      i + 1 === 2 ? 'void' : i + 1 === 5 ? 'held' : 'paid',
    );
    expect(await statuses()).toEqual(expected);
    expect(existsSync(out)).toBe(true);
    expect(existsSync(join(work, 'undo.before-undo.json'))).toBe(true);
    expect(existsSync(join(work, 'undo.redo.sql'))).toBe(true);
  });
});

describe('salvage undo of deleted rows whose unique values were taken since', () => {
  let deleted: string;

  beforeAll(async () => {
    await sql(
      server,
      `CREATE TABLE app.users (id INT PRIMARY KEY, email VARCHAR(40) NOT NULL, UNIQUE KEY (email));
       INSERT INTO app.users VALUES (1, 'ann@example.com'), (2, 'bob@example.com'), (3, 'cy@example.com')`,
    );
    await sql(server, 'DELETE FROM app.users WHERE id <= 2');
    deleted = await gtidNow();
    // A later, legitimate sign-up takes Ann's address (case differs: the collation makes it the same key).
    await sql(server, "INSERT INTO app.users VALUES (4, 'ANN@example.com')");
  });

  it('reports the clash before anything runs, and neither skip nor force writes that row back', async () => {
    const undo = (...extra: string[]) =>
      salvage('undo', '--source', server.dsn, '--gtid', deleted, '--dir', binlogDir, '--json', ...extra);
    const blocked = await undo();
    expect(blocked.code).toBe(1);
    const conflicts = JSON.parse(blocked.stdout).conflicts as {
      key: unknown;
      reason: string;
      current: unknown;
    }[];
    expect(conflicts).toEqual([
      expect.objectContaining({
        key: { id: 1 },
        reason: 'unique-key',
        current: { id: 4, email: 'ANN@example.com' },
      }),
    ]);

    for (const policy of ['force', 'skip']) {
      const run = await undo(
        '--on-conflict',
        policy,
        '--apply',
        '--yes',
        '--out',
        join(work, `users-${policy}.sql`),
      );
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const rows = await sql<{ id: number; email: string }>(
        server,
        'SELECT id, email FROM app.users ORDER BY id',
      );
      expect(rows.map((r) => [r.id, r.email])).toEqual([
        [2, 'bob@example.com'],
        [3, 'cy@example.com'],
        [4, 'ANN@example.com'],
      ]);
      if (policy === 'force') await sql(server, 'DELETE FROM app.users WHERE id = 2');
    }
  });
});

describe('salvage undo --test-on sandbox --repo', () => {
  it('rehearses on a whole clone restored from the repository, where checks may read any table, then applies', async () => {
    await sql(
      server,
      `CREATE TABLE app.wallets (id INT PRIMARY KEY, amount INT NOT NULL);
       CREATE TABLE app.limits (max_amount INT NOT NULL); INSERT INTO app.limits VALUES (100);
       INSERT INTO app.wallets SELECT seq, seq FROM seq.seq_1_to_10`,
    );
    const repo = `file://${join(work, 'repo')}`;
    await createBackup({ source: sandboxTarget(server), repo, method: 'logical' });
    await sql(server, 'UPDATE app.wallets SET amount = amount * 1000');
    const inflated = await gtidNow();
    // A check on a table the undo does not touch: only a whole clone has it.
    const limits = join(work, 'limits.sql');
    await writeFile(limits, 'SELECT w.id FROM app.wallets w JOIN app.limits l ON w.amount > l.max_amount;\n');
    const undo = (...extra: string[]) =>
      salvage(
        'undo',
        ...['--source', server.dsn, '--gtid', inflated, '--dir', binlogDir, '--test-on', 'sandbox'],
        ...['--assert', limits, '--apply', '--yes', '--json', ...extra],
      );
    const amounts = async (): Promise<number[]> =>
      (await sql<{ amount: number }>(server, 'SELECT amount FROM app.wallets ORDER BY id')).map(
        (r) => r.amount,
      );

    const copied = await undo();
    expect(copied.code).not.toBe(0);
    expect(copied.stdout).toContain('limits');
    expect(await amounts()).toEqual(Array.from({ length: 10 }, (_, i) => (i + 1) * 1000));

    const cloned = await undo('--repo', repo, '--out', join(work, 'wallets.sql'));
    expect(cloned.code, cloned.stdout + cloned.stderr).toBe(0);
    const result = JSON.parse(cloned.stdout);
    expect(result.rehearsal).toBe('restored server');
    expect(result.sameAsRehearsal).toBe(true);
    expect(await amounts()).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
  });
});
