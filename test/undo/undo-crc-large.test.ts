/**
 * A range of 40 MiB, its checksums verified by one CRC per read of the file
 * (eventsHoldChecksums): a damaged event the undo never decodes still fails
 * the command with the event named, and nothing is written. (A small range:
 * undo-start.test.ts.)
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findTransactionStart } from '../../src/binlog/index.js';
import { expectUndoRefusesDamagedAnnotation, undoFromDir } from '../support/binlog-events.js';
import { type Sandbox, sql, startSandbox } from '../support/sandbox.js';

let server: Sandbox;
let bad: string;

beforeAll(async () => {
  server = await startSandbox({ serverOptions: { max_allowed_packet: '64M' } });
  await sql(
    server,
    'CREATE DATABASE seq; CREATE DATABASE big; CREATE TABLE big.t (id INT PRIMARY KEY, b LONGBLOB)',
  );
  await sql(server, "INSERT INTO big.t SELECT seq, REPEAT('a', 1048576) FROM seq.seq_1_to_20");
  // One bad transaction of about 40 MiB of row images (20 rows, before and after).
  await sql(server, "UPDATE big.t SET b = REPEAT('b', 1048576)");
  const [row] = await sql<{ g: string }>(server, 'SELECT @@gtid_binlog_pos AS g');
  bad = String(row?.g);
  await sql(server, 'FLUSH BINARY LOGS');
}, 120_000);

describe('checksums of a large range', () => {
  it('are verified whole: a damaged annotation fails the undo, with the event named', async () => {
    const log = join(server.dir, 'binlog', 'binlog.000001');
    const start = await findTransactionStart([log], new Set([bad]));
    expect(start).toBeDefined();
    const gtidAt = start?.position as number;
    expect((await stat(log)).size - gtidAt).toBeGreaterThan(32 * 2 ** 20);
    await expectUndoRefusesDamagedAnnotation(server, bad, 'binlog.000001', gtidAt);
    // Undamaged, the same range is undone: 20 rows back to 'a'.
    const out = join(server.dir, 'undo.sql');
    const clean = await undoFromDir(server, bad, join(server.dir, 'binlog'), out);
    expect(clean.code, clean.stderr).toBe(0);
    expect(JSON.parse(clean.stdout)).toMatchObject({ statements: 20, rows: 20, conflicts: [] });
  }, 120_000);
});
