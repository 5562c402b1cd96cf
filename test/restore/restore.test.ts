import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  archiveBinlogs,
  createBackup,
  openRepository,
  readArchiveIndex,
  sandboxTarget,
} from '../../src/backup/index.js';
import { isSalvageError } from '../../src/errors.js';
import { type RestoreReport, restoreToPoint } from '../../src/restore/index.js';
import { type Sandbox, sql, startSandbox } from '../support/sandbox.js';

let prod: Sandbox;
let twin: Sandbox;
let repoDir: string;
let repo: string;
let bad: string;
let conflicting: string;
let beforeBad: string;
let ordersBeforeBad: string;

const SCHEMA = `CREATE DATABASE app;
CREATE TABLE app.accounts (id INT PRIMARY KEY, balance DECIMAL(12,2) NOT NULL, note VARCHAR(50));
CREATE TABLE app.orders (id INT AUTO_INCREMENT PRIMARY KEY, account INT NOT NULL, amount DECIMAL(12,2), at DATETIME(6));`;

/** Runs the same statements on production and on its twin, which never sees the bad transaction. */
async function both(statements: string): Promise<void> {
  await sql(prod, statements);
  await sql(twin, statements);
}

async function checksum(server: Sandbox, tables = 'app.accounts, app.orders'): Promise<string> {
  const rows = await sql<{ Table: string; Checksum: string }>(server, `CHECKSUM TABLE ${tables} EXTENDED`);
  return rows.map((r) => `${r.Table}=${r.Checksum}`).join(' ');
}

async function tablesOf(server: Sandbox): Promise<string[]> {
  const rows = await sql<{ name: string }>(
    server,
    "SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') ORDER BY 1",
  );
  return rows.map((r) => r.name);
}

async function lastGtid(server: Sandbox): Promise<string> {
  const [row] = await sql<{ pos: string }>(server, 'SELECT @@gtid_binlog_pos AS pos');
  return row?.pos ?? '';
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; exit: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (isSalvageError(error)) return { code: error.code, exit: error.exit, message: error.message };
    throw error;
  }
  throw new Error('expected a SalvageError');
}

function restore(options: Partial<Parameters<typeof restoreToPoint>[0]>): Promise<RestoreReport> {
  return restoreToPoint({
    repo,
    into: { kind: 'sandbox', create: (o) => startSandbox({ ...o, baseDir: undefined }) },
    cut: { kind: 'end' },
    ...options,
  });
}

beforeAll(async () => {
  [prod, twin] = await Promise.all([startSandbox(), startSandbox()]);
  repoDir = await mkdtemp(join(tmpdir(), 'salvage-restore-'));
  repo = `file://${repoDir}`;
  await both(SCHEMA);
  await both(
    `INSERT INTO app.accounts VALUES ${Array.from({ length: 50 }, (_, i) => `(${i + 1}, ${100 + i}.50, 'n${i}')`).join(',')}`,
  );
  await createBackup({ source: sandboxTarget(prod), repo, method: 'logical' });
  await createBackup({ source: sandboxTarget(prod), repo, method: 'physical' });
  // Good writes, with a rotation between them.
  for (let i = 0; i < 10; i++) {
    await both(
      `INSERT INTO app.orders (account, amount, at) VALUES (${i + 1}, ${i}.25, '2024-01-01 10:00:0${i}.123456')`,
    );
  }
  await both('FLUSH BINARY LOGS');
  await both(
    'BEGIN; UPDATE app.accounts SET note = CONCAT(note, "+") WHERE id <= 5; INSERT INTO app.orders (account, amount) VALUES (1, 9.99); COMMIT',
  );
  beforeBad = await checksum(prod);
  ordersBeforeBad = await checksum(prod, 'app.orders');
  await sql(prod, 'UPDATE app.accounts SET balance = 0');
  bad = (await lastGtid(prod)).split(',')[0] as string;
  // Later writes: one to a row the bad transaction changed (a conflict), others elsewhere.
  await both('UPDATE app.accounts SET balance = 777 WHERE id = 7');
  conflicting = await lastGtid(prod);
  await both('FLUSH BINARY LOGS');
  await both('INSERT INTO app.orders (account, amount) VALUES (3, 1.5), (4, 2.5)');
  await both('DELETE FROM app.orders WHERE id = 2');
}, 120_000);

afterAll(async () => {
  await rm(repoDir, { recursive: true, force: true });
});

describe('restore from a backup and the source binlog', () => {
  it('--before the bad transaction equals the snapshot taken just before it', async () => {
    const report = await restore({ source: sandboxTarget(prod), cut: { kind: 'before', gtid: bad } });
    expect(report.sandbox).toBeDefined();
    expect(await checksum(report.sandbox as Sandbox)).toBe(beforeBad);
    expect(report.backup.method).toBe('physical');
    expect(report.replayed).toBe(11); // 10 inserts and one multi-statement transaction
    expect(report.applier).toBe('server');
    expect(report.cut.gtid).toBe(bad);
    expect(report.gtidsPreserved).toBe(true);
    // The restored server logged the replayed transactions under their original GTIDs.
    const [row] = await sql<{ pos: string }>(report.sandbox as Sandbox, 'SELECT @@gtid_binlog_pos AS pos');
    const [domain, server, seq] = bad.split('-');
    expect(row?.pos).toBe(`${domain}-${server}-${BigInt(seq as string) - 1n}`);
    await report.sandbox?.destroy();
  }, 120_000);

  it('--skip the bad transaction into a named server equals a twin that never ran it, and reports exactly the later write to its rows', async () => {
    const spare = await startSandbox();
    const report = await restore({
      source: sandboxTarget(prod),
      into: { kind: 'server', target: sandboxTarget(spare) },
      skip: [bad],
    });
    expect(report.backup.method).toBe('logical');
    expect(report.applier).toBe('session');
    expect(await checksum(spare)).toBe(await checksum(twin));
    expect(report.skipped).toEqual([bad]);
    expect(report.conflicts).toEqual([
      { skipped: bad, table: 'app.accounts', key: { id: 7 }, later: [conflicting] },
    ]);
    await spare.destroy();
  }, 120_000);

  it('--tables replays only the listed tables', async () => {
    const report = await restore({
      source: sandboxTarget(prod),
      cut: { kind: 'before', gtid: bad },
      tables: ['app.orders'],
    });
    const restored = report.sandbox as Sandbox;
    expect(report.backup.method).toBe('physical');
    expect(await checksum(restored, 'app.orders')).toBe(ordersBeforeBad);
    // The backup's other tables are not restored: nothing stale passes for restored data.
    expect(await tablesOf(restored)).toEqual(['app.orders']);
    expect(report.replayed).toBe(11);
    expect(report.applier).toBe('server');
    // The applier's table filter is put back.
    const [filter] = await sql<{ f: string }>(restored, 'SELECT @@global.replicate_do_table AS f');
    expect(filter?.f).toBe('');
    await restored.destroy();
  }, 120_000);

  it('--tables from a logical backup into a named server restores only those tables', async () => {
    const spare = await startSandbox();
    const report = await restore({
      source: sandboxTarget(prod),
      into: { kind: 'server', target: sandboxTarget(spare) },
      cut: { kind: 'before', gtid: bad },
      tables: ['app.orders'],
    });
    expect(report.backup.method).toBe('logical');
    expect(await tablesOf(spare)).toEqual(['app.orders']);
    expect(await checksum(spare, 'app.orders')).toBe(ordersBeforeBad);
    const error = await failure(
      restore({
        source: sandboxTarget(prod),
        into: { kind: 'server', target: sandboxTarget(twin) },
        cut: { kind: 'before', gtid: bad },
        tables: ['app.nope'],
      }),
    );
    expect(error.code).toBe('BAD_INPUT');
    expect(error.message).toContain('app.nope');
    await spare.destroy();
  }, 120_000);

  it('refuses a GTID that is not in the binlogs (exit 2)', async () => {
    const error = await failure(
      restore({ source: sandboxTarget(prod), cut: { kind: 'before', gtid: '0-999-12345' } }),
    );
    expect(error.code).toBe('GTID_NOT_FOUND');
    expect(error.exit).toBe(2);
  });

  it("refuses the server's applier for a restore it cannot do, before restoring anything (exit 2)", async () => {
    const error = await failure(
      restore({
        into: { kind: 'server', target: sandboxTarget(twin) },
        cut: { kind: 'before', gtid: bad },
        applier: 'server',
      }),
    );
    expect(error.code).toBe('BAD_INPUT');
    expect(error.message).toContain('sandbox');
    expect(error.exit).toBe(2);
  });

  it('refuses to restore into the source (exit 2)', async () => {
    const error = await failure(
      restore({
        source: sandboxTarget(prod),
        into: { kind: 'server', target: sandboxTarget(prod) },
        cut: { kind: 'before', gtid: bad },
      }),
    );
    expect(error.code).toBe('REFUSED_SOURCE');
    expect(error.exit).toBe(2);
  });
});

describe('restore from the archive with the source stopped', () => {
  it('restores to just before the bad transaction, and names an archived file that goes missing', async () => {
    const archived = await archiveBinlogs({ source: sandboxTarget(prod), repo });
    await prod.stop();
    const report = await restore({ cut: { kind: 'before', gtid: bad } });
    expect(await checksum(report.sandbox as Sandbox)).toBe(beforeBad);
    expect(report.binlogSources.fromSource).toBe(false);
    await report.sandbox?.destroy();

    const index = await readArchiveIndex(await openRepository(repo), archived.prefix);
    const middle = index?.files[1]?.file as string;
    await rm(join(repoDir, archived.prefix, middle));
    const error = await failure(restore({ cut: { kind: 'before', gtid: bad } }));
    expect(error.code).toBe('BINLOG_GAP');
    expect(error.message).toContain(middle);
  }, 120_000);
});
