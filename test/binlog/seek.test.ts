/**
 * In a large binlog file the first of some transactions is found by
 * bisecting on GTID sequence numbers, not by stepping over every event
 * before it. Sequence numbers logged out of order (gtid_strict_mode off,
 * gtid_seq_no set by hand) can mislead the bisection: the transactions are
 * then still found, by stepping through the whole file.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type BinlogEvent,
  findTransactionStart,
  readBinlogFrom,
  readFromTransactions,
} from '../../src/binlog/index.js';
import { SalvageError } from '../../src/errors.js';
import { runSalvage } from '../support/cli.js';
import { type Sandbox, sql, startSandbox } from '../support/sandbox.js';

/** 64 KiB of row images per transaction: a file of 20 MiB has about 320. */
const BULK = "INSERT INTO app.t (b) SELECT REPEAT('x', 1000) FROM seq.seq_1_to_64";

async function lastGtid(server: Sandbox): Promise<string> {
  const [row] = await sql<{ g: string }>(server, 'SELECT @@gtid_binlog_pos AS g');
  return String(row?.g);
}

async function prepare(server: Sandbox): Promise<void> {
  await sql(
    server,
    'CREATE DATABASE seq; CREATE DATABASE app; CREATE TABLE app.t (id INT AUTO_INCREMENT PRIMARY KEY, b BLOB)',
  );
}

/** The GTIDs of `gtids` in the order the events hand them out. */
async function wantedInOrder(
  events: AsyncIterable<readonly BinlogEvent[]>,
  gtids: Set<string>,
): Promise<string[]> {
  const seen: string[] = [];
  for await (const batch of events) {
    for (const event of batch) {
      if (event.kind === 'mariadb-gtid' && gtids.has(event.gtid ?? '')) seen.push(event.gtid as string);
    }
  }
  return seen;
}

describe.each(['CRC32', 'NONE'])('bisecting a 20 MiB binlog (checksums %s)', (checksum) => {
  let server: Sandbox;
  let log: string;
  let middle: string;

  beforeAll(async () => {
    server = await startSandbox({ serverOptions: { binlog_checksum: checksum } });
    await prepare(server);
    for (let i = 0; i < 320; i++) {
      await sql(server, BULK);
      if (i === 200) middle = await lastGtid(server);
    }
    await sql(server, 'FLUSH BINARY LOGS');
    log = join(server.dir, 'binlog', 'binlog.000001');
  }, 180_000);

  it('lands on the same event as stepping through every one', async () => {
    expect((await stat(log)).size).toBeGreaterThan(18 * 2 ** 20);
    const gtids = new Set([middle]);
    const stepped = await findTransactionStart([log], gtids);
    const sought = await findTransactionStart([log], gtids, { seek: true });
    expect(stepped?.sought).toBe(false);
    expect(sought).toEqual({ ...stepped, sought: true });
    expect(stepped?.position).toBeGreaterThan(12 * 2 ** 20);
  });
});

describe('bisecting a binlog of 3 MiB rows', () => {
  let server: Sandbox;
  const small: string[] = [];

  beforeAll(async () => {
    server = await startSandbox();
    await prepare(server);
    await sql(server, 'CREATE TABLE app.big (id INT AUTO_INCREMENT PRIMARY KEY, b LONGBLOB)');
    for (let i = 0; i < 8; i++) {
      // One rows event of 3 MiB: a probe landing in it finds no event start nearby.
      await sql(server, "INSERT INTO app.big (b) VALUES (REPEAT('z', 3 * 1024 * 1024))");
      await sql(server, "INSERT INTO app.t (b) VALUES ('small')");
      small.push(await lastGtid(server));
    }
    await sql(server, 'FLUSH BINARY LOGS');
  }, 180_000);

  it('still lands on the same event as stepping through every one', async () => {
    const log = join(server.dir, 'binlog', 'binlog.000001');
    expect((await stat(log)).size).toBeGreaterThan(24 * 2 ** 20);
    for (const gtid of [small[3], small[6]] as string[]) {
      const gtids = new Set([gtid]);
      const stepped = await findTransactionStart([log], gtids);
      expect(await findTransactionStart([log], gtids, { seek: true })).toEqual({ ...stepped, sought: true });
    }
  });
});

describe('sequence numbers logged out of order', () => {
  let server: Sandbox;
  let log: string;
  let early: string;
  let late: string;
  let domainServer: string;

  beforeAll(async () => {
    server = await startSandbox({ serverOptions: { gtid_strict_mode: 'OFF' } });
    await prepare(server);
    for (let i = 0; i < 160; i++) await sql(server, BULK);
    const logged = await lastGtid(server);
    domainServer = logged.slice(0, logged.lastIndexOf('-'));
    const next = Number(logged.slice(logged.lastIndexOf('-') + 1)) + 1;
    // Logged before the second half, numbered after all of it.
    await sql(server, 'CREATE TABLE app.u (id INT PRIMARY KEY, v INT UNIQUE)');
    await sql(
      server,
      `SET gtid_seq_no = 1000000; BEGIN; INSERT INTO app.t (b) VALUES ('early'); INSERT INTO app.u VALUES (1, 1); COMMIT`,
    );
    early = `${domainServer}-1000000`;
    for (let i = 0; i < 160; i++) await sql(server, `SET gtid_seq_no = ${next + i}; ${BULK}`);
    await sql(
      server,
      `SET gtid_seq_no = ${next + 160}; BEGIN; UPDATE app.t SET b = 'late' WHERE b = 'early'; UPDATE app.u SET v = 2; COMMIT`,
    );
    late = `${domainServer}-${next + 160}`;
    await sql(server, 'FLUSH BINARY LOGS');
    log = join(server.dir, 'binlog', 'binlog.000001');
  }, 180_000);

  /** `salvage <command>` of both transactions, reading the file. */
  const bothFromFile = (command: string) =>
    runSalvage([command, '--source', server.dsn, '--gtid', `${early},${late}`, '--binlog', log, '--json']);

  it('a transaction the bisection passes is found by stepping through the file', async () => {
    const gtids = new Set([early]);
    const stepped = await findTransactionStart([log], gtids);
    expect(stepped?.position).toBeGreaterThan(8 * 2 ** 20);
    // Every probe sees a lower number than 1000000: the bisection ends at the end of the file.
    expect(await findTransactionStart([log], gtids, { seek: true })).toEqual(stepped);
  });

  it('a stream that started too late misses one; read again, it holds every transaction', async () => {
    const gtids = new Set([early, late]);
    // The bisection finds `late`, the lowest number, and starts there: `early` is behind it.
    const sought = await findTransactionStart([log], gtids, { seek: true });
    expect(sought?.sought).toBe(true);
    expect(await wantedInOrder(readBinlogFrom({ files: [log] }, gtids, { seek: true }), gtids)).toEqual([
      late,
    ]);
    let reads = 0;
    const seen = await readFromTransactions({ files: [log] }, gtids, {}, async (events) => {
      reads++;
      const found = await wantedInOrder(events, gtids);
      if (found.length < gtids.size) throw new SalvageError('GTID_NOT_FOUND', 'missing');
      return found;
    });
    expect(seen).toEqual([early, late]);
    expect(reads).toBe(2);
  });

  it('undoes both transactions from the file', async () => {
    const run = await bothFromFile('undo');
    expect(run.code, run.stderr).toBe(0);
    // app.u has a second unique key: undone change by change, from a second pass over the file.
    expect(JSON.parse(run.stdout)).toMatchObject({
      statements: 3,
      changes: 4,
      conflicts: [],
      stepwise: { 'app.u': expect.any(String) },
    });
  });

  it('undoes both transactions from the server, which skips to just before the lower number and is asked again', async () => {
    const run = await runSalvage(['undo', '--source', server.dsn, '--gtid', `${early},${late}`, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ statements: 3, changes: 4, conflicts: [] });
  });

  it('measures the impact of both transactions from the file', async () => {
    const run = await bothFromFile('impact');
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { transactions: { gtid: string }[] };
    expect(report.transactions.map((t) => t.gtid)).toEqual([early, late]);
  });
});
