/**
 * From a MariaDB server, the stream for some transactions starts at a
 * replica position just before the first of them: the server skips the
 * rest of its log without sending it. Every other domain is still sent from
 * the start of the log, so a later write in another domain is seen; the
 * position may name a GTID the server never logged (the one before came
 * from another server), and transactions logged out of order are found by
 * reading the log again from its start.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startForTransactions } from '../../src/binlog/stream/first-log.js';
import { type Connection, connect as connectServer, parseDsn, resolveTarget } from '../../src/mysql/index.js';
import { planUndo } from '../../src/undo/index.js';
import { type Sandbox, sql, startSandbox } from '../support/sandbox.js';

let server: Sandbox;
let conn: Connection;
let bad: string;
let laterInDomain1: string;
let laterInDomain0: string;
let domain1BeforeLog: string;
let predecessor: string;

async function gtidOfLast(domain: number): Promise<string> {
  const [row] = await sql<{ g: string }>(server, 'SELECT @@gtid_binlog_pos AS g');
  return String(row?.g)
    .split(',')
    .find((g) => g.startsWith(`${domain}-`)) as string;
}

beforeAll(async () => {
  server = await startSandbox({ serverOptions: { gtid_strict_mode: 'OFF' } });
  await sql(server, 'CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v INT)');
  await sql(server, 'INSERT INTO app.t VALUES (1, 1), (2, 2), (3, 3), (4, 4)');
  await sql(server, 'SET SESSION gtid_domain_id = 1; UPDATE app.t SET v = 40 WHERE id = 4');
  domain1BeforeLog = await gtidOfLast(1);
  // The log the bad transaction is in starts with a GTID_LIST naming both domains.
  await sql(server, 'FLUSH BINARY LOGS');
  await sql(server, 'SET SESSION gtid_domain_id = 1; UPDATE app.t SET v = 41 WHERE id = 4');
  // The transaction before the bad one in its domain comes from another server.
  await sql(server, 'SET SESSION server_id = 77; UPDATE app.t SET v = 42 WHERE id = 4');
  predecessor = await gtidOfLast(0);
  await sql(server, 'UPDATE app.t SET v = v + 100 WHERE id <= 3');
  bad = await gtidOfLast(0);
  await sql(server, 'SET SESSION gtid_domain_id = 1; UPDATE app.t SET v = 7 WHERE id = 3');
  laterInDomain1 = await gtidOfLast(1);
  await sql(server, 'UPDATE app.t SET v = 8 WHERE id = 2');
  laterInDomain0 = await gtidOfLast(0);
  conn = await connectServer(resolveTarget(parseDsn(server.dsn)));
}, 120_000);

afterAll(async () => {
  await conn?.end();
});

describe('a MariaDB server', () => {
  it('is asked to start just before the first transaction, every other domain where the log leaves it', async () => {
    const start = await startForTransactions(resolveTarget(parseDsn(server.dsn)), [bad], { seek: true });
    const [domain, serverId, seq] = bad.split('-');
    expect(start).toMatchObject({ kind: 'gtid', strict: false });
    const after = start?.kind === 'gtid' ? start.after.split(',').sort() : [];
    expect(after).toEqual([`${domain}-${serverId}-${Number(seq) - 1}`, domain1BeforeLog]);
  });

  it('sends the later writes of every domain: the same plan as from the files', async () => {
    const fromServer = await planUndo({
      gtids: [bad],
      binlog: { server: resolveTarget(parseDsn(server.dsn)) },
      conn,
      onConflict: 'skip',
    });
    const fromFiles = await planUndo({
      gtids: [bad],
      binlog: { dir: join(server.dir, 'binlog') },
      conn,
      onConflict: 'skip',
    });
    const conflicts = (plan: typeof fromServer) =>
      plan.conflicts
        .map((c) => ({ key: c.key, later: c.later }))
        .sort((a, b) => Number(a.key.id) - Number(b.key.id));
    expect(conflicts(fromServer)).toEqual([
      { key: { id: 2 }, later: [laterInDomain0] },
      { key: { id: 3 }, later: [laterInDomain1] },
    ]);
    expect(conflicts(fromFiles)).toEqual(conflicts(fromServer));
    expect(fromServer.statements.map((s) => s.sql)).toEqual(fromFiles.statements.map((s) => s.sql));
    expect(fromServer.statements).toHaveLength(1);
    expect(fromServer.laterTransactions).toBe(fromFiles.laterTransactions);
  });

  it('starts at the lowest of transactions from two servers of one domain, and finds both', async () => {
    const target = resolveTarget(parseDsn(server.dsn));
    const gtids = [predecessor, bad];
    // The lowest is server 77's: the position is just before it, by that server.
    const [domain, , seq] = predecessor.split('-');
    const start = await startForTransactions(target, gtids, { seek: true });
    expect(start?.kind === 'gtid' ? start.after.split(',') : []).toContain(`${domain}-77-${Number(seq) - 1}`);
    const plan = await planUndo({ gtids, binlog: { server: target }, conn, onConflict: 'skip' });
    expect(plan.transactions.map((t) => t.gtid)).toEqual(gtids);
  });

  it('starts just before the lowest of each domain when the transactions are of several', async () => {
    const target = resolveTarget(parseDsn(server.dsn));
    const gtids = [bad, laterInDomain1];
    const start = await startForTransactions(target, gtids, { seek: true });
    const justBefore = (gtid: string) => gtid.replace(/-(\d+)$/, (_, n: string) => `-${Number(n) - 1}`);
    expect(start?.kind === 'gtid' ? start.after.split(',').sort() : []).toEqual([
      justBefore(bad),
      justBefore(laterInDomain1),
    ]);
    const fromServer = await planUndo({ gtids, binlog: { server: target }, conn, onConflict: 'skip' });
    const fromFiles = await planUndo({
      gtids,
      binlog: { dir: join(server.dir, 'binlog') },
      conn,
      onConflict: 'skip',
    });
    expect(fromServer.transactions.map((t) => t.gtid)).toEqual(gtids);
    expect(fromServer.statements.map((s) => s.sql)).toEqual(fromFiles.statements.map((s) => s.sql));
    expect(fromServer.conflicts).toEqual(fromFiles.conflicts);
    expect(fromServer.laterTransactions).toBe(fromFiles.laterTransactions);
  });

  it('refusing the position (a server that never logged there) is read again from the log start', async () => {
    // The position names server 999, which never logged in domain 0: the server refuses it.
    await expect(
      planUndo({ gtids: ['0-999-5'], binlog: { server: resolveTarget(parseDsn(server.dsn)) }, conn }),
    ).rejects.toMatchObject({
      code: 'GTID_NOT_FOUND',
      message: expect.stringMatching(/0-999-5 is not in the binlogs read/),
    });
  });
});
