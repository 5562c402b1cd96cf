/**
 * undo --repo brings back what schema changes lost, from a backup: a dropped
 * table, a truncated table's rows, a dropped column's values, keeping the
 * writes made after the bad change.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackup, sandboxTarget } from '../../src/backup/index.js';
import { runSalvageInProcess } from '../support/cli.js';
import { type Sandbox, sql, startSandbox, TEST_SANDBOX_BASE } from '../support/sandbox.js';

let server: Sandbox;
let work: string;
let repo: string;
const bad: string[] = [];
let before: Record<string, string>;
const savedHome = process.env.SALVAGE_HOME;

async function gtidNow(): Promise<string> {
  const [row] = await sql<{ g: string }>(server, 'SELECT @@gtid_binlog_pos AS g');
  return String(row?.g);
}

async function checksums(tables: string): Promise<Record<string, string>> {
  const rows = await sql<{ Table: string; Checksum: string }>(server, `CHECKSUM TABLE ${tables} EXTENDED`);
  return Object.fromEntries(rows.map((r) => [r.Table, String(r.Checksum)]));
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'salvage-schema-loss-'));
  repo = `file://${join(work, 'repo')}`;
  process.env.SALVAGE_HOME = join(TEST_SANDBOX_BASE, '..', 'salvage-schema-loss-home');
  server = await startSandbox();
  await sql(
    server,
    `CREATE DATABASE app;
     CREATE TABLE app.t (id INT PRIMARY KEY, a VARCHAR(10) NOT NULL, b INT NULL, n DECIMAL(6,2));
     CREATE TABLE app.gone (id INT PRIMARY KEY, v VARBINARY(8));
     CREATE TABLE app.emptied (id INT PRIMARY KEY, v DATETIME(3));
     INSERT INTO app.t VALUES (1, 'one', 10, 1.50), (2, 'two', 20, 2.50), (3, 'three', NULL, 3.50);
     INSERT INTO app.gone VALUES (1, 0x00ff), (2, 'text');
     INSERT INTO app.emptied VALUES (1, '2024-01-01 10:00:00.123'), (2, '2024-02-29 23:59:59.999');`,
  );
  await createBackup({ source: sandboxTarget(server), repo, method: 'logical' });
  // After the backup and before the bad change: must come back too.
  await sql(server, 'UPDATE app.t SET b = 11 WHERE id = 1; INSERT INTO app.gone VALUES (3, NULL)');
  before = await checksums('app.gone, app.emptied');
  for (const statement of [
    'ALTER TABLE app.t DROP COLUMN b',
    // Narrowing: 'three' is cut to 'thr'.
    "SET SESSION sql_mode = ''; ALTER TABLE app.t MODIFY a VARCHAR(3) NOT NULL",
    'DROP TABLE app.gone',
    'TRUNCATE TABLE app.emptied',
  ]) {
    await sql(server, statement);
    bad.push(await gtidNow());
  }
  // Good writes after the bad change, kept.
  await sql(
    server,
    "INSERT INTO app.t (id, a, n) VALUES (100, 'new', 9.99); INSERT INTO app.emptied VALUES (999, NULL)",
  );
}, 120_000);

afterAll(() => {
  if (savedHome === undefined) delete process.env.SALVAGE_HOME;
  else process.env.SALVAGE_HOME = savedHome;
});

describe('salvage undo --repo of schema changes', () => {
  const undo = (...extra: string[]) =>
    runSalvageInProcess([
      'undo',
      ...['--source', server.dsn, '--dir', join(server.dir, 'binlog'), '--repo', repo, '--json'],
      ...bad.flatMap((g) => ['--gtid', g]),
      ...extra,
    ]);

  it('writes the copy-back script and changes nothing without --yes, then applies it', async () => {
    const script = join(work, 'restore.sql');
    const planned = await undo('--out', script, '--apply');
    expect(planned.code, planned.stdout + planned.stderr).toBe(0);
    const plan = JSON.parse(planned.stdout);
    expect(plan.applied).toBe(false);
    expect(plan.tables).toEqual([
      { table: 'app.t', action: 'restore-columns', columns: ['a', 'b'], rows: 3 },
      { table: 'app.gone', action: 'create-table', columns: [], rows: 3 },
      { table: 'app.emptied', action: 'insert-rows', columns: [], rows: 2 },
    ]);
    expect(existsSync(script)).toBe(true);
    expect(await readFile(script, 'utf8')).toContain(
      'ALTER TABLE `app`.`t` MODIFY COLUMN `a` varchar(10) NOT NULL, ADD COLUMN `b` int(11) DEFAULT NULL AFTER `a`;',
    );
    const [columns] = await sql<{ n: number }>(
      server,
      "SELECT COUNT(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'app' AND TABLE_NAME = 't' AND COLUMN_NAME = 'b'",
    );
    expect(Number(columns?.n)).toBe(0);

    const applied = await undo('--out', join(work, 'applied.sql'), '--apply', '--yes');
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(JSON.parse(applied.stdout).applied).toBe(true);
    const t = await sql<{ id: number; a: string; b: number | null }>(
      server,
      'SELECT id, a, b FROM app.t ORDER BY id',
    );
    expect(t.map((r) => [r.id, r.a, r.b])).toEqual([
      [1, 'one', 11],
      [2, 'two', 20],
      [3, 'three', null],
      [100, 'new', null],
    ]);
    const order = await sql<{ c: string }>(
      server,
      "SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'app' AND TABLE_NAME = 't' ORDER BY ORDINAL_POSITION",
    );
    expect(order.map((r) => r.c)).toEqual(['id', 'a', 'b', 'n']);
    expect((await checksums('app.gone'))['app.gone']).toBe(before['app.gone']);
    const emptied = await sql<{ id: number }>(server, 'SELECT id FROM app.emptied ORDER BY id');
    expect(emptied.map((r) => r.id)).toEqual([1, 2, 999]);
    await sql(server, 'DELETE FROM app.emptied WHERE id = 999');
    expect((await checksums('app.emptied'))['app.emptied']).toBe(before['app.emptied']);
    const [side] = await sql<{ n: number }>(
      server,
      "SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_NAME LIKE '\\_salvage%'",
    );
    expect(Number(side?.n)).toBe(0);
  }, 120_000);
});

describe('salvage undo --repo refuses', () => {
  it('lost columns of a table without a key: rows cannot be matched, nothing is written', async () => {
    await sql(server, 'CREATE TABLE app.nokey (a INT, b INT); INSERT INTO app.nokey VALUES (1, 1), (1, 2)');
    await createBackup({ source: sandboxTarget(server), repo, method: 'logical' });
    await sql(server, 'ALTER TABLE app.nokey DROP COLUMN b');
    const gtid = await gtidNow();
    const script = join(work, 'nokey.sql');
    const run = await runSalvageInProcess([
      'undo',
      ...['--source', server.dsn, '--dir', join(server.dir, 'binlog'), '--repo', repo, '--gtid', gtid],
      ...['--out', script, '--apply', '--yes', '--json'],
    ]);
    expect(run.code).toBe(2);
    const error = JSON.parse(run.stdout).error;
    expect(error.code).toBe('UNDO_DDL');
    expect(error.message).toContain('app.nokey has no key');
    expect(existsSync(script)).toBe(false);
  }, 120_000);
});
