/**
 * Finding the bad transactions among many binlogs: the logs every one of
 * them was logged after (by the GTID state the next log starts with) are
 * not read at all, from files or from the server. A damaged older log
 * proves it: reading it would fail.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGtidState } from '../../src/binlog/index.js';
import { type Connection, connect as connectServer, parseDsn, resolveTarget } from '../../src/mysql/index.js';
import { planUndo } from '../../src/undo/index.js';
import { expectUndoRefusesDamagedAnnotation } from '../support/binlog-events.js';
import { type Sandbox, sql, startSandbox } from '../support/sandbox.js';

let server: Sandbox;
let conn: Connection;
let bad: string;

async function gtidNow(): Promise<string> {
  const [row] = await sql<{ g: string }>(server, 'SELECT @@gtid_binlog_pos AS g');
  return String(row?.g);
}

beforeAll(async () => {
  server = await startSandbox();
  await sql(server, 'CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20))');
  await sql(server, "INSERT INTO app.t VALUES (1, 'one'), (2, 'two'), (3, 'three')");
  await sql(server, 'FLUSH BINARY LOGS');
  await sql(server, "UPDATE app.t SET v = 'uno' WHERE id = 1");
  await sql(server, 'FLUSH BINARY LOGS');
  await sql(server, "UPDATE app.t SET v = 'pre' WHERE id = 1");
  await sql(server, "UPDATE app.t SET v = 'bad' WHERE id >= 2");
  bad = await gtidNow();
  await sql(server, "UPDATE app.t SET v = 'later' WHERE id = 3");
  await sql(server, 'FLUSH BINARY LOGS');
  // Damage the oldest log past its first events: whoever reads it through fails.
  const handle = await open(join(server.dir, 'binlog', 'binlog.000001'), 'r+');
  const { size } = await handle.stat();
  await handle.write(Buffer.alloc(64, 0xff), 0, 64, size - 80);
  await handle.close();
  // And the transaction before the bad one in their own log: a value byte of its rows event, which
  // decodes fine but fails its checksum.
  const log = await open(join(server.dir, 'binlog', 'binlog.000003'), 'r+');
  const header = Buffer.alloc(19);
  const logSize = (await log.stat()).size;
  for (let at = 4; at < logSize; at += header.readUInt32LE(9)) {
    await log.read(header, 0, 19, at);
    if (header[4] !== 24) continue; // UPDATE_ROWS_EVENT_V1
    const last = at + header.readUInt32LE(9) - 5; // the last byte of the row images: 'e' of 'pre'
    await log.write(Buffer.from('E'), 0, 1, last);
    break;
  }
  await log.close();
  conn = await connectServer(resolveTarget(parseDsn(server.dsn)));
});

afterAll(async () => {
  await conn?.end();
});

describe('the start of the bad transactions', () => {
  it('is found without reading the logs before the one that holds them, from files', async () => {
    const plan = await planUndo({ gtids: [bad], binlog: { dir: join(server.dir, 'binlog') }, conn });
    expect(plan.transactions.map((t) => [t.gtid, t.file])).toEqual([[bad, 'binlog.000003']]);
    expect(plan.conflicts.map((c) => c.key)).toEqual([{ id: 3 }]);
    expect(plan.statements).toHaveLength(1);
  });

  it('is found without streaming the logs before the one that holds them, from the server', async () => {
    const plan = await planUndo({
      gtids: [bad],
      binlog: { server: resolveTarget(parseDsn(server.dsn)) },
      conn,
    });
    expect(plan.transactions.map((t) => t.file)).toEqual(['binlog.000003']);
    expect(plan.statements).toHaveLength(1);
  });

  it('is found without decoding the transactions before it in its log, from files and the server', async () => {
    // Reading the damaged transaction before the bad one would fail: from here on, every event is verified.
    for (const binlog of [
      { dir: join(server.dir, 'binlog') },
      { server: resolveTarget(parseDsn(server.dsn)) },
    ]) {
      const plan = await planUndo({ gtids: [bad], binlog, conn, onConflict: 'skip' });
      expect(plan.transactions.map((t) => t.gtid)).toEqual([bad]);
      expect(plan.statements).toHaveLength(1);
    }
    const [pre] = await sql<{ g: string }>(server, 'SELECT @@gtid_binlog_pos AS g');
    const seq = Number(String(pre?.g).split('-')[2]);
    const damaged = `${String(pre?.g).split('-').slice(0, 2).join('-')}-${seq - 2}`;
    await expect(
      planUndo({ gtids: [damaged], binlog: { server: resolveTarget(parseDsn(server.dsn)) }, conn }),
    ).rejects.toMatchObject({ code: 'BINLOG_CHECKSUM', context: { file: 'binlog.000003' } });
  });

  it('still reads every log when the one asked for is older than the damage', async () => {
    const [first] = await sql<{ g: string }>(server, 'SELECT @@gtid_binlog_pos AS g');
    const seq = Number(String(first?.g).split('-')[2]);
    const oldest = `${String(first?.g).split('-').slice(0, 2).join('-')}-${seq - 5}`;
    await expect(
      planUndo({ gtids: [oldest], binlog: { dir: join(server.dir, 'binlog') }, conn }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/BINLOG_(CORRUPT|CHECKSUM)/) });
    await expect(
      planUndo({ gtids: [oldest], binlog: { server: resolveTarget(parseDsn(server.dsn)) }, conn }),
    ).rejects.toMatchObject({ code: 'BINLOG_CHECKSUM' });
  });
});

describe('checksums of the range', () => {
  it('are verified by the command: a damaged statement annotation fails it, nothing written', async () => {
    const plan = await planUndo({ gtids: [bad], binlog: { dir: join(server.dir, 'binlog') }, conn });
    await expectUndoRefusesDamagedAnnotation(
      server,
      bad,
      'binlog.000003',
      plan.transactions[0]?.position as number,
    );
  });
});

describe('GTID states', () => {
  it('say which transactions were logged before, for MariaDB and MySQL', () => {
    const mariadb = parseGtidState('[0-1-100,0-2-7,1-1-3]');
    expect(['0-1-100', '0-1-1', '0-2-7', '1-1-3'].every((g) => mariadb.has(g))).toBe(true);
    expect(['0-1-101', '0-2-8', '2-1-1', '0-3-1'].some((g) => mariadb.has(g))).toBe(false);
    const uuid = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
    const mysql = parseGtidState(`${uuid}:1-5:7,\n${uuid}:tag:2`);
    expect([`${uuid}:1`, `${uuid}:5`, `${uuid}:7`, `${uuid}:tag:2`].every((g) => mysql.has(g))).toBe(true);
    expect([`${uuid}:6`, `${uuid}:8`, `${uuid}:tag:1`].some((g) => mysql.has(g))).toBe(false);
  });
});
