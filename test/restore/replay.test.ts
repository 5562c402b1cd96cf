import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxTarget } from '../../src/backup/index.js';
import { isSalvageError } from '../../src/errors.js';
import {
  type ReplayResult,
  relayReplayRefusal,
  replayBinlog,
  replayWithServerApplier,
} from '../../src/restore/index.js';
import { binlogEventBatches, binlogEvents } from '../support/binlog-events.js';
import { connect, type Sandbox, sql, startSandbox } from '../support/sandbox.js';

let source: Sandbox;
let stopped: Sandbox[] = [];
let expected: string;

const TABLES = 'app.accounts, app.orders, app.notes, app.log';

async function checksum(server: Sandbox): Promise<string> {
  const rows = await sql<{ Table: string; Checksum: string }>(server, `CHECKSUM TABLE ${TABLES} EXTENDED`);
  return rows.map((r) => `${r.Table}=${r.Checksum}`).join(' ');
}

async function replayInto(
  batchBytes: number | undefined,
  relaxDurability = false,
): Promise<{ server: Sandbox; result: ReplayResult }> {
  const server = await startSandbox();
  stopped.push(server);
  const result = await replayBinlog({
    target: sandboxTarget(server),
    events: binlogEvents(source),
    batchBytes,
    relaxDurability,
  });
  return { server, result };
}

beforeAll(async () => {
  source = await startSandbox();
  await sql(
    source,
    `CREATE DATABASE app;
     CREATE TABLE app.accounts (id INT PRIMARY KEY, balance DECIMAL(12,2) NOT NULL, note VARCHAR(50));
     CREATE TABLE app.orders (id INT AUTO_INCREMENT PRIMARY KEY, account INT NOT NULL, amount DECIMAL(12,2), at DATETIME(6), r DOUBLE);
     CREATE TABLE app.notes (id INT AUTO_INCREMENT PRIMARY KEY, body MEDIUMTEXT, made TIMESTAMP(6) NULL) ENGINE=MyISAM;
     CREATE TABLE app.log (id INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(100), n BIGINT)`,
  );
  await sql(
    source,
    `INSERT INTO app.accounts VALUES ${Array.from({ length: 200 }, (_, i) => `(${i + 1}, ${i}.50, 'n${i}')`).join(',')}`,
  );
  // One session writes in statement format with a temporary table that lives across a file rotation.
  const session = await connect(source);
  try {
    await session.query(
      `SET SESSION binlog_format = 'STATEMENT', SESSION time_zone = '+05:30', SESSION sql_mode = 'NO_BACKSLASH_ESCAPES';
       CREATE TEMPORARY TABLE app.staging (account INT, amount DECIMAL(12,2));
       INSERT INTO app.staging VALUES (1, 1.25), (2, 2.50), (3, 3.75);
       SET @bonus := 7, @label := 'bonus -- not a comment';
       INSERT INTO app.orders (account, amount, at, r) SELECT account, amount + @bonus, NOW(6), RAND(42) FROM app.staging;
       INSERT INTO app.log (what, n) VALUES (@label, LAST_INSERT_ID())`,
    );
    for (let i = 0; i < 150; i++) {
      await sql(
        source,
        `BEGIN; UPDATE app.accounts SET balance = balance + ${i} WHERE id = ${(i % 200) + 1};
         INSERT INTO app.orders (account, amount, at) VALUES (${i}, ${i}.01, '2024-03-01 10:00:00.${String(i).padStart(6, '0')}'); COMMIT`,
      );
      if (i === 75) await sql(source, 'FLUSH BINARY LOGS');
    }
    await session.query(
      `SET SESSION sql_mode = '', SESSION foreign_key_checks = 0, SESSION unique_checks = 0;
       INSERT INTO app.orders (account, amount, at) SELECT account + 100, amount * 2, '2024-03-02' FROM app.staging;
       INSERT INTO app.notes (body, made) VALUES ('a \\\\ backslash', NOW(6)) # a trailing comment
       ;
       UPDATE app.accounts SET note = CONCAT(note, '+', @bonus) WHERE id % 7 = 0;
       DROP TEMPORARY TABLE app.staging`,
    );
  } finally {
    await session.end();
  }
  await sql(
    source,
    'DELETE FROM app.orders WHERE id % 5 = 0; INSERT INTO app.notes (body) VALUES (REPEAT("x", 70000))',
  );
  await sql(source, 'FLUSH BINARY LOGS');
  expected = await checksum(source);
}, 120_000);

afterAll(async () => {
  await Promise.all(stopped.map((s) => s.destroy()));
  stopped = [];
});

describe('replayBinlog', () => {
  it('gives the same tables in batches as one statement at a time, and both equal the source', async () => {
    const [one, batched, tiny] = await Promise.all([
      replayInto(0),
      replayInto(undefined, true),
      // Batches closing inside transactions and a statement bigger than the batch.
      replayInto(4096),
    ]);
    expect(await checksum(one.server)).toBe(expected);
    expect(await checksum(batched.server)).toBe(expected);
    expect(await checksum(tiny.server)).toBe(expected);
    expect(batched.result.replayed).toBe(one.result.replayed);
    expect(tiny.result.replayed).toBe(one.result.replayed);
    expect(batched.result.last).toEqual(one.result.last);
    // Per-commit redo log flushes are back on after a replay that turned them off.
    const [flush] = await sql<{ f: string }>(
      batched.server,
      'SELECT @@global.innodb_flush_log_at_trx_commit AS f',
    );
    expect(String(flush?.f)).toBe('1');
    const [gtids] = await sql<{ pos: string }>(source, 'SELECT @@gtid_binlog_pos AS pos');
    for (const { server } of [one, batched, tiny]) {
      const [row] = await sql<{ pos: string }>(server, 'SELECT @@gtid_binlog_pos AS pos');
      expect(row?.pos).toBe(gtids?.pos);
    }
  }, 240_000);
});

/** What restoreBackup gives a restored sandbox so its replication applier can replay relay logs. */
const APPLIER_READY = { relay_log: 'relay-bin', log_slave_updates: 'ON', skip_slave_start: 'ON' };

async function replicationLeftovers(server: Sandbox): Promise<{ status: number; files: string[] }> {
  const status = await sql(server, 'SHOW SLAVE STATUS');
  const files = (await readdir(join(server.dir, 'data'))).filter((f) => f.startsWith('relay-bin.0'));
  return { status: status.length, files };
}

describe('replayWithServerApplier', () => {
  it('gives the same tables, GTIDs and count as the session replay, and leaves no replication behind', async () => {
    const server = await startSandbox({ serverOptions: APPLIER_READY });
    stopped.push(server);
    expect(await relayReplayRefusal(sandboxTarget(server))).toBeUndefined();
    const session = await replayInto(undefined, true);
    const result = await replayWithServerApplier({
      target: sandboxTarget(server),
      events: binlogEventBatches(source),
      relaxDurability: true,
    });
    expect(result).toBeDefined();
    expect(await checksum(server)).toBe(expected);
    expect(result?.replayed).toBe(session.result.replayed);
    expect(result?.last).toEqual(session.result.last);
    const [gtids] = await sql<{ pos: string }>(source, 'SELECT @@gtid_binlog_pos AS pos');
    const [row] = await sql<{ pos: string; flush: string }>(
      server,
      'SELECT @@gtid_binlog_pos AS pos, @@global.innodb_flush_log_at_trx_commit AS flush',
    );
    expect(row?.pos).toBe(gtids?.pos);
    expect(String(row?.flush)).toBe('1');
    expect(await replicationLeftovers(server)).toEqual({ status: 0, files: [] });
  }, 240_000);

  it('leaves out the skipped transaction and nothing else', async () => {
    const [server, without] = await Promise.all([
      startSandbox({ serverOptions: APPLIER_READY }),
      startSandbox(),
    ]);
    stopped.push(server, without);
    // A transaction of the loop in the middle: one UPDATE and one INSERT.
    const gtids: string[] = [];
    for await (const { event } of binlogEvents(source))
      if (event.kind === 'mariadb-gtid') gtids.push(event.gtid);
    const skipped = gtids[Math.floor(gtids.length / 2)] as string;
    const [result, session] = await Promise.all([
      replayWithServerApplier({
        target: sandboxTarget(server),
        events: binlogEventBatches(source),
        skip: new Set([skipped]),
      }),
      replayBinlog({
        target: sandboxTarget(without),
        events: binlogEvents(source),
        skip: new Set([skipped]),
      }),
    ]);
    expect(result?.skipped).toEqual([skipped]);
    expect(result?.replayed).toBe(session.replayed);
    expect(await checksum(server)).toBe(await checksum(without));
    expect(await checksum(server)).not.toBe(expected);
  }, 240_000);

  it("stops at the first transaction the target refuses, with the server's error and where it is", async () => {
    const server = await startSandbox({ serverOptions: APPLIER_READY });
    stopped.push(server);
    // The binlog's first transaction creates app: here it exists already.
    await sql(server, 'SET sql_log_bin = 0; CREATE DATABASE app');
    let error: unknown;
    try {
      await replayWithServerApplier({ target: sandboxTarget(server), events: binlogEventBatches(source) });
    } catch (e) {
      error = e;
    }
    expect(isSalvageError(error) && error.code).toBe('SERVER_ERROR');
    expect(String((error as Error).message)).toMatch(/replaying failed .*database exists/i);
    const [tables] = await sql<{ n: number }>(
      server,
      "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = 'app'",
    );
    expect(Number(tables?.n)).toBe(0);
    expect(await replicationLeftovers(server)).toEqual({ status: 0, files: [] });
  }, 240_000);

  it("applies nothing when an event carries the target's own server id (its applier would skip it)", async () => {
    const [row] = await sql<{ id: string }>(source, 'SELECT @@server_id AS id');
    const server = await startSandbox({ serverOptions: { ...APPLIER_READY, server_id: String(row?.id) } });
    stopped.push(server);
    const result = await replayWithServerApplier({
      target: sandboxTarget(server),
      events: binlogEventBatches(source),
    });
    expect(result).toBeUndefined();
    const [schemas] = await sql<{ n: number }>(
      server,
      "SELECT COUNT(*) AS n FROM information_schema.schemata WHERE schema_name = 'app'",
    );
    expect(Number(schemas?.n)).toBe(0);
    expect(await replicationLeftovers(server)).toEqual({ status: 0, files: [] });
  }, 240_000);

  it('refuses a server without a relay log name or one that would not log what it applies', async () => {
    const plain = await startSandbox();
    const silent = await startSandbox({ serverOptions: { relay_log: 'relay-bin' } });
    stopped.push(plain, silent);
    expect(await relayReplayRefusal(sandboxTarget(plain))).toMatch(/no relay_log/);
    expect(await relayReplayRefusal(sandboxTarget(silent))).toMatch(/log_slave_updates/);
  }, 120_000);
});
