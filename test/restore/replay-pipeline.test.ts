import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWithBytes, type EventWithBytes, sandboxTarget } from '../../src/backup/index.js';
import { type RawEvent, readBinlogFiles } from '../../src/binlog/index.js';
import { SalvageError } from '../../src/errors.js';
import { replayBinlog } from '../../src/restore/index.js';
import { type Sandbox, sql, startSandbox } from '../support/sandbox.js';

const ROWS = 120;
const TAKEN = 50;
let source: Sandbox;
let target: Sandbox | undefined;
/** The binlog file holding only the ROWS one-row transactions (row events: one query each, many in flight). */
let file: string;
/** GTID of the transaction inserting id `n` is `${prefix}${base + n}`. */
let prefix: string;
let base: number;

async function* insertEvents(): AsyncGenerator<EventWithBytes> {
  async function* copied(): AsyncGenerator<RawEvent> {
    for await (const raw of readBinlogFiles({ dir: join(source.dir, 'binlog') })) {
      if (raw.file === file) yield { ...raw, bytes: Buffer.from(raw.bytes) };
    }
  }
  yield* decodeWithBytes(copied(), { verify: true, strict: true });
}

beforeAll(async () => {
  source = await startSandbox();
  await sql(source, 'CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY, v VARCHAR(20))');
  await sql(source, 'FLUSH BINARY LOGS');
  const [status] = await sql<{ File: string }>(source, 'SHOW MASTER STATUS');
  file = String(status?.File);
  const [pos] = await sql<{ pos: string }>(source, 'SELECT @@gtid_binlog_pos AS pos');
  const gtid = String(pos?.pos);
  prefix = gtid.slice(0, gtid.lastIndexOf('-') + 1);
  base = Number(gtid.slice(gtid.lastIndexOf('-') + 1));
  for (let n = 1; n <= ROWS; n++)
    await sql(source, `SET binlog_format = 'ROW'; INSERT INTO d.t VALUES (${n}, 'row ${n}')`);
  await sql(source, 'FLUSH BINARY LOGS');
}, 120_000);

afterAll(async () => {
  await Promise.all([source?.destroy(), target?.destroy()]);
});

describe('pipelined replay', () => {
  it('stops at a failing transaction in the middle of the queries in flight, with nothing after it applied', async () => {
    target = await startSandbox();
    // The row the 50th transaction inserts is there already (not logged: the target's GTID position stays empty).
    await sql(
      target,
      `SET sql_log_bin = 0; CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY, v VARCHAR(20));
       INSERT INTO d.t VALUES (${TAKEN}, 'already here')`,
    );
    const acknowledged: string[] = [];
    const failure = await replayBinlog({
      target: sandboxTarget(target),
      events: insertEvents(),
      onTransaction: (tx, applied) => {
        if (applied && tx.gtid) acknowledged.push(tx.gtid);
      },
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(SalvageError);
    const error = failure as SalvageError;
    const failed = `${prefix}${base + TAKEN}`;
    const lastGood = `${prefix}${base + TAKEN - 1}`;
    expect(error.message).toMatch(/Duplicate entry '50'/);
    expect(error.message).toContain(`${failed} at ${file}:`);
    expect(String(error.context.failedAt)).toContain(failed);
    expect(String(error.context.lastApplied)).toContain(lastGood);
    expect(acknowledged.at(-1)).toBe(lastGood);
    expect(acknowledged).toHaveLength(TAKEN - 1);
    // The target committed exactly the acknowledged transactions: none of those in flight after the failure.
    const [pos] = await sql<{ pos: string }>(target, 'SELECT @@gtid_binlog_pos AS pos');
    expect(pos?.pos).toBe(lastGood);
    const [rows] = await sql<{ n: number; top: number }>(
      target,
      'SELECT COUNT(*) AS n, MAX(id) AS top FROM d.t',
    );
    expect(Number(rows?.n)).toBe(TAKEN);
    expect(Number(rows?.top)).toBe(TAKEN);
  }, 120_000);
});
