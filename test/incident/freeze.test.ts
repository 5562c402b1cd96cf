import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { beforeAll, describe, expect, it } from 'vitest';
import { freeze, thaw } from '../../src/incident/index.js';
import { parseDsn, resolveTarget } from '../../src/mysql/index.js';
import { type Sandbox, sql, startSandbox } from '../support/sandbox.js';

let server: Sandbox;
let dir: string;

const target = () => resolveTarget(parseDsn(server.dsn), { env: {} });

function appConnection(): Promise<mysql.Connection> {
  return mysql.createConnection({
    host: '127.0.0.1',
    port: server.port,
    user: 'app',
    password: 'app-secret',
  });
}

/** A write by an ordinary account (no SUPER, no READ_ONLY ADMIN): the error number, or 0 when it worked. */
async function appWrite(value: number): Promise<number> {
  const conn = await appConnection();
  try {
    await conn.query('INSERT INTO app.t VALUES (?)', [value]);
    return 0;
  } catch (error) {
    return (error as { errno: number }).errno;
  } finally {
    await conn.end();
  }
}

async function settings(): Promise<Record<string, string>> {
  const rows = await sql<{ Variable_name: string; Value: string }>(
    server,
    "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('read_only', 'event_scheduler')",
  );
  return Object.fromEntries(rows.map((r) => [r.Variable_name, r.Value]));
}

beforeAll(async () => {
  server = await startSandbox({ binlog: false });
  await sql(
    server,
    `CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY) ENGINE=InnoDB;
     CREATE USER app@'%' IDENTIFIED BY 'app-secret'; GRANT SELECT, INSERT ON app.* TO app@'%';
     SET GLOBAL event_scheduler = ON`,
  );
  dir = await mkdtemp(join(tmpdir(), 'salvage-freeze-'));
});

describe('freeze and thaw', () => {
  it('stops an ordinary write, kills open writers, keeps the first prior state, and thaw restores it', async () => {
    const stateFile = join(dir, 'state.json');
    expect(await appWrite(1)).toBe(0);
    // An open transaction that has modified a row.
    const writer = await appConnection();
    writer.on('error', () => {});
    await writer.query('BEGIN');
    await writer.query('INSERT INTO app.t VALUES (100)');
    const [[{ id: writerId }]] = (await writer.query('SELECT CONNECTION_ID() AS id')) as unknown as [
      [{ id: number }],
    ];

    const first = await freeze(target(), { stateFile, killWriters: true });
    expect(first.already_frozen).toBe(false);
    expect(first.prior).toEqual({ read_only: false, super_read_only: null, event_scheduler: 'ON' });
    expect(first.changes).toEqual([
      { variable: 'read_only', from: 'OFF', to: 'ON' },
      { variable: 'event_scheduler', from: 'ON', to: 'OFF' },
    ]);
    expect(first.writers.map((w) => [w.id, w.user, w.rows_modified])).toEqual([[writerId, 'app', 1]]);
    expect(first.killed).toEqual([writerId]);
    // root holds READ_ONLY ADMIN (ALL PRIVILEGES) and can still write: the warning names it.
    expect(first.can_still_write.some((a) => a.startsWith("'root'@"))).toBe(true);
    expect(await settings()).toEqual({ read_only: 'ON', event_scheduler: 'OFF' });
    expect(await appWrite(2)).toBe(1290); // ER_OPTION_PREVENTS_STATEMENT
    await writer.end().catch(() => writer.destroy());
    expect(await sql(server, 'SELECT id FROM app.t WHERE id = 100')).toEqual([]);

    const again = await freeze(target(), { stateFile });
    expect(again.already_frozen).toBe(true);
    expect(again.changes).toEqual([]);
    expect(again.prior).toEqual(first.prior);

    const thawed = await thaw(target(), { stateFile });
    expect(thawed.restored).toEqual(first.prior);
    expect(await settings()).toEqual({ read_only: 'OFF', event_scheduler: 'ON' });
    expect(await appWrite(3)).toBe(0);

    const twice = await thaw(target(), { stateFile });
    expect(twice.restored).toBeNull();
    expect(twice.message).toMatch(/No freeze recorded/);
  });

  it('restores a prior read_only=ON exactly (thaw does not open what was closed)', async () => {
    const stateFile = join(dir, 'closed.json');
    await sql(server, 'SET GLOBAL read_only = ON; SET GLOBAL event_scheduler = OFF');
    try {
      const frozen = await freeze(target(), { stateFile });
      expect(frozen.changes).toEqual([]);
      await thaw(target(), { stateFile });
      expect(await settings()).toEqual({ read_only: 'ON', event_scheduler: 'OFF' });
    } finally {
      await sql(server, 'SET GLOBAL read_only = OFF');
    }
  });
});
