/**
 * One statement per row: a row the bad transactions changed several times is
 * put back with one guarded statement, to the same checksums as before the
 * first of them; another writer between two bad changes is a conflict; and
 * tables where order or count matters (moved keys, foreign keys, triggers)
 * are undone change by change, newest first, and still come back exactly.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connection, connect as connectServer, parseDsn, resolveTarget } from '../../src/mysql/index.js';
import { applyUndo, planUndo, type UndoPlan } from '../../src/undo/index.js';
import { type Sandbox, sql, startSandbox } from '../support/sandbox.js';

let server: Sandbox;
let conn: Connection;

beforeAll(async () => {
  server = await startSandbox();
  await sql(server, 'CREATE DATABASE seq');
  conn = await connectServer(resolveTarget(parseDsn(server.dsn)));
});

afterAll(async () => {
  await conn?.end();
});

async function gtidNow(): Promise<string> {
  const [row] = await sql<{ g: string }>(server, 'SELECT @@gtid_binlog_pos AS g');
  return String(row?.g);
}

/** Runs each script as its own transaction; their GTIDs. */
async function transactions(...scripts: string[]): Promise<string[]> {
  const gtids: string[] = [];
  for (const script of scripts) {
    await sql(server, `START TRANSACTION; ${script}; COMMIT`);
    gtids.push(await gtidNow());
  }
  return gtids;
}

async function checksums(...tables: string[]): Promise<Record<string, string>> {
  const rows = await sql<{ Table: string; Checksum: string }>(
    server,
    `CHECKSUM TABLE ${tables.join(', ')} EXTENDED`,
  );
  return Object.fromEntries(rows.map((r) => [r.Table, String(r.Checksum)]));
}

function plan(gtids: string[]): Promise<UndoPlan> {
  return planUndo({ gtids, binlog: { dir: join(server.dir, 'binlog') }, conn, onConflict: 'skip' });
}

async function apply(undo: UndoPlan, name: string): Promise<void> {
  await applyUndo(conn, undo, {
    savePrefix: join(server.dir, name),
    header: { source: server.dsn, title: name },
  });
}

describe('undo, one statement per row', () => {
  it('puts back rows the bad transactions changed several times, to the checksums before the first', async () => {
    await sql(
      server,
      `CREATE DATABASE a;
       CREATE TABLE a.t (id INT PRIMARY KEY, v VARCHAR(20), f FLOAT, d DATETIME(3), c CHAR(8) CHARACTER SET latin1);
       INSERT INTO a.t SELECT seq, CONCAT('v', seq), seq / 3, '2024-01-01 00:00:00.500', 'ç' FROM seq.seq_1_to_20;`,
    );
    const before = await checksums('a.t');
    const bad = await transactions(
      "UPDATE a.t SET v = 'x' WHERE id <= 10; DELETE FROM a.t WHERE id = 20; INSERT INTO a.t VALUES (21, 'new', 1, NOW(), 'n')",
      "UPDATE a.t SET v = 'y', f = f * 2 WHERE id <= 5; DELETE FROM a.t WHERE id = 1; INSERT INTO a.t VALUES (1, 'back', 0, NOW(), 'b'); DELETE FROM a.t WHERE id = 21",
      "UPDATE a.t SET d = '2030-01-01', c = 'é' WHERE id BETWEEN 3 AND 12",
    );
    const undo = await plan(bad);
    expect(undo.conflicts).toEqual([]);
    expect(undo.stepwise.size).toBe(0);
    // 12 + 8 + 10 row changes; rows 1-12 and 20 come back (21 was inserted and deleted again).
    expect(undo.changes).toBe(30);
    expect(undo.statements).toHaveLength(13);
    expect(undo.rows).toBe(13);
    await apply(undo, 'a');
    expect(await checksums('a.t')).toEqual(before);
  });

  it('keeps rows apart whose integer keys share their low bytes (BIGINT beyond 2^48, negative keys)', async () => {
    await sql(
      server,
      `CREATE DATABASE ik;
       CREATE TABLE ik.big (id BIGINT UNSIGNED PRIMARY KEY, v INT);
       CREATE TABLE ik.neg (id SMALLINT PRIMARY KEY, v INT);
       INSERT INTO ik.big VALUES (1, 0), (281474976710657, 0), (18446744073709551615, 0), (281474976710655, 0);
       INSERT INTO ik.neg VALUES (-1, 0), (65535 - 65536 + 1, 0), (-32768, 0), (32767, 0);
       CREATE TABLE ik.zero (id INT(5) ZEROFILL PRIMARY KEY, v INT);
       INSERT INTO ik.zero VALUES (7, 0), (70000, 0), (123456, 0);`,
    );
    const before = await checksums('ik.big', 'ik.neg', 'ik.zero');
    const bad = await transactions(
      'UPDATE ik.big SET v = v + 1; UPDATE ik.neg SET v = v + 1; UPDATE ik.zero SET v = v + 1',
      'UPDATE ik.big SET v = v + 10 WHERE id > 1; DELETE FROM ik.neg WHERE id < 0',
    );
    const [later] = await transactions('UPDATE ik.zero SET v = 5 WHERE id = 7');
    const undo = await plan(bad);
    // The server prints ZEROFILL keys padded (00007): the guard still finds exactly the row written since.
    expect(undo.conflicts.map((c) => [c.table, c.key, c.later])).toEqual([['ik.zero', { id: 7 }, [later]]]);
    expect(undo.stepwise.size).toBe(0);
    // 4 + 4 + 3 + 3 + 2 row changes on 11 distinct rows: 2^48 + 1 is not row 1, -1 is not 65535.
    expect(undo.changes).toBe(16);
    expect(undo.rows).toBe(10);
    await apply(undo, 'ik');
    await sql(server, 'UPDATE ik.zero SET v = 0 WHERE id = 7');
    expect(await checksums('ik.big', 'ik.neg', 'ik.zero')).toEqual(before);
  });

  it('reports a row another transaction wrote between two bad ones, and undoes the rest', async () => {
    await sql(
      server,
      `CREATE DATABASE b; CREATE TABLE b.t (id INT PRIMARY KEY, v VARCHAR(20));
       INSERT INTO b.t SELECT seq, 'good' FROM seq.seq_1_to_5;`,
    );
    const [bad1] = await transactions("UPDATE b.t SET v = 'bad' WHERE id <= 3");
    const [legit] = await transactions("UPDATE b.t SET v = 'fixed' WHERE id = 2");
    const [bad2] = await transactions("UPDATE b.t SET v = 'worse' WHERE id <= 3");
    const undo = await plan([bad1 as string, bad2 as string]);
    expect(undo.conflicts).toEqual([
      {
        gtid: bad2,
        table: 'b.t',
        key: { id: 2 },
        reason: 'changed',
        current: { id: 2, v: 'worse' },
        later: [legit],
      },
    ]);
    expect(undo.statements).toHaveLength(2);
    await apply(undo, 'b');
    const rows = await sql<{ id: number; v: string }>(server, 'SELECT id, v FROM b.t ORDER BY id');
    expect(rows.map((r) => r.v)).toEqual(['good', 'worse', 'good', 'good', 'good']);
  });

  it('finds a later write to a row as a conflict whatever the column types (server-compared FLOAT too)', async () => {
    await sql(
      server,
      `CREATE DATABASE f; CREATE TABLE f.t (id INT PRIMARY KEY, x FLOAT, y DOUBLE);
       INSERT INTO f.t SELECT seq, seq / 7, seq / 7 FROM seq.seq_1_to_4;`,
    );
    const [bad] = await transactions('UPDATE f.t SET x = x + 1, y = y + 1');
    const [later] = await transactions('UPDATE f.t SET x = 0.5 WHERE id = 3');
    const undo = await plan([bad as string]);
    expect(undo.conflicts.map((c) => [c.key, c.later])).toEqual([[{ id: 3 }, [later]]]);
    expect(undo.statements).toHaveLength(3);
  });

  it('undoes change by change, newest first, a table whose keys the bad changes moved', async () => {
    await sql(
      server,
      `CREATE DATABASE c; CREATE TABLE c.t (id INT PRIMARY KEY, v VARCHAR(20));
       INSERT INTO c.t SELECT seq, CONCAT('v', seq) FROM seq.seq_1_to_6;`,
    );
    const before = await checksums('c.t');
    // Ids 3 and 4 swap through a third value: one statement per row could not be ordered.
    const bad = await transactions(
      "UPDATE c.t SET id = id + 100 WHERE id <= 2; UPDATE c.t SET v = 'z' WHERE id = 5",
      'UPDATE c.t SET id = 1000 WHERE id = 3; UPDATE c.t SET id = 3 WHERE id = 4; UPDATE c.t SET id = 4 WHERE id = 1000',
    );
    const undo = await plan(bad);
    expect(undo.stepwise.get('c.t')).toMatch(/moved a row to another key/);
    expect(undo.statements).toHaveLength(6);
    await apply(undo, 'c');
    expect(await checksums('c.t')).toEqual(before);
  });

  it('keeps the place of each change among all of them when a table turns stepwise part way', async () => {
    await sql(
      server,
      `CREATE DATABASE x; CREATE TABLE x.p (id INT PRIMARY KEY, v INT); CREATE TABLE x.m (id INT PRIMARY KEY, v INT);
       INSERT INTO x.p VALUES (1, 0), (2, 0); INSERT INTO x.m VALUES (1, 0);`,
    );
    // x.m turns stepwise at its moved key: its changes come from a second pass, where x.p's rows are only counted.
    const bad = await transactions(
      'UPDATE x.p SET v = 1 WHERE id = 1; UPDATE x.m SET id = 101 WHERE id = 1; UPDATE x.p SET v = 1 WHERE id = 2',
    );
    const undo = await plan(bad);
    expect(undo.stepwise.get('x.m')).toMatch(/moved a row to another key/);
    expect(undo.statements.map((st) => [st.table.table, st.sequence])).toEqual([
      ['p', 2],
      ['m', 1],
      ['p', 0],
    ]);
  });

  it('undoes tables with foreign keys and triggers change by change, in an order the keys accept', async () => {
    await sql(
      server,
      `CREATE DATABASE k;
       CREATE TABLE k.parent (id INT PRIMARY KEY, name VARCHAR(20));
       CREATE TABLE k.child (id INT PRIMARY KEY, parent INT NOT NULL, FOREIGN KEY (parent) REFERENCES k.parent (id));
       CREATE TABLE k.audited (id INT PRIMARY KEY, v INT);
       CREATE TABLE k.log (n INT AUTO_INCREMENT PRIMARY KEY, id INT);
       CREATE TRIGGER k.audit AFTER UPDATE ON k.audited FOR EACH ROW INSERT INTO k.log (id) VALUES (NEW.id);
       INSERT INTO k.parent VALUES (1, 'one'), (2, 'two');
       INSERT INTO k.child VALUES (10, 1), (11, 1), (20, 2);
       INSERT INTO k.audited VALUES (1, 1);
       CREATE TABLE k.solo (id INT PRIMARY KEY);
       CREATE DATABASE k2;
       CREATE TABLE k2.ref (id INT PRIMARY KEY, solo INT, FOREIGN KEY (solo) REFERENCES k.solo (id));
       INSERT INTO k.solo VALUES (1);`,
    );
    const before = await checksums('k.parent', 'k.child', 'k.audited', 'k.solo');
    const bad = await transactions(
      'DELETE FROM k.child WHERE parent = 1; DELETE FROM k.parent WHERE id = 1; UPDATE k.audited SET v = v + 1; INSERT INTO k.solo VALUES (5)',
      'UPDATE k.audited SET v = v + 1',
    );
    const undo = await plan(bad);
    expect(undo.stepwise.get('k.parent')).toMatch(/foreign key/);
    expect(undo.stepwise.get('k.child')).toMatch(/foreign key/);
    expect(undo.stepwise.get('k.audited')).toMatch(/trigger audit/);
    // Only a table of another schema points at k.solo.
    expect(undo.stepwise.get('k.solo')).toMatch(/foreign key/);
    // The log rows the trigger wrote are bad changes too, undone row by row.
    expect(undo.stepwise.has('k.log')).toBe(false);
    await apply(undo, 'k');
    expect(await checksums('k.parent', 'k.child', 'k.audited', 'k.solo')).toEqual(before);
  });

  it('finds later writes to a table with a trigger in the same pass, and undoes the rest change by change', async () => {
    await sql(
      server,
      `CREATE DATABASE g; CREATE TABLE g.t (id INT PRIMARY KEY, v INT); CREATE TABLE g.plain (id INT PRIMARY KEY, v INT);
       CREATE TABLE g.log (n INT AUTO_INCREMENT PRIMARY KEY, id INT);
       CREATE TRIGGER g.audit AFTER UPDATE ON g.t FOR EACH ROW INSERT INTO g.log (id) VALUES (NEW.id);
       INSERT INTO g.t SELECT seq, seq FROM seq.seq_1_to_5; INSERT INTO g.plain SELECT seq, seq FROM seq.seq_1_to_3;`,
    );
    const [bad1] = await transactions('UPDATE g.t SET v = v + 10 WHERE id <= 4; UPDATE g.plain SET v = 0');
    const [between] = await transactions('UPDATE g.t SET v = 99 WHERE id = 2');
    const [bad2] = await transactions(
      'UPDATE g.plain SET v = 1; UPDATE g.t SET v = v + 10 WHERE id IN (3, 4)',
    );
    const [after] = await transactions('UPDATE g.t SET v = 77 WHERE id = 4');
    const undo = await plan([bad1 as string, bad2 as string]);
    expect(undo.stepwise.get('g.t')).toMatch(/trigger audit/);
    expect(undo.conflicts.map((c) => [c.key, c.later]).sort()).toEqual([
      [{ id: 2 }, [between]],
      [{ id: 4 }, [after]],
    ]);
    // g.t rows 1 and 3 change by change (1 + 2 statements); one per row for g.plain (row 1 ends where it
    // began: none) and the 6 g.log rows the trigger wrote in the bad transactions.
    expect(undo.statements.filter((st) => st.table.table === 't')).toHaveLength(3);
    expect(undo.statements).toHaveLength(11);
    const sequences = undo.statements.map((st) => st.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => b - a));
    await apply(undo, 'g');
    const rows = await sql<{ id: number; v: number }>(server, 'SELECT id, v FROM g.t ORDER BY id');
    expect(rows.map((r) => r.v)).toEqual([1, 99, 3, 77, 5]);
    const plain = await sql<{ v: number }>(server, 'SELECT v FROM g.plain ORDER BY id');
    expect(plain.map((r) => r.v)).toEqual([1, 2, 3]);
  });

  it('stops and rolls everything back when a row changes between the plan and the apply', async () => {
    await sql(
      server,
      `CREATE DATABASE r; CREATE TABLE r.t (id INT PRIMARY KEY, v VARCHAR(20));
       INSERT INTO r.t SELECT seq, 'good' FROM seq.seq_1_to_200;`,
    );
    const bad = await transactions("UPDATE r.t SET v = 'bad'");
    const undo = await plan(bad);
    expect(undo.statements).toHaveLength(200);
    // A write lands after the plan was made: the statement for row 150 finds no row it may change.
    await sql(server, "UPDATE r.t SET v = 'racing' WHERE id = 150");
    const damaged = await checksums('r.t');
    await expect(apply(undo, 'r')).rejects.toMatchObject({ code: 'UNDO_CONFLICT' });
    expect(await checksums('r.t')).toEqual(damaged);
  });

  it('traces a later write logged with partial images change by change, and still finds it', async () => {
    await sql(
      server,
      `CREATE DATABASE m; CREATE TABLE m.t (id INT PRIMARY KEY, v VARCHAR(20), w INT);
       INSERT INTO m.t SELECT seq, 'good', seq FROM seq.seq_1_to_4;`,
    );
    const [bad] = await transactions("UPDATE m.t SET v = 'bad'");
    await sql(server, "SET SESSION binlog_row_image = 'MINIMAL'; UPDATE m.t SET w = 0 WHERE id = 2");
    const [later] = await sql<{ g: string }>(server, 'SELECT @@gtid_binlog_pos AS g');
    const undo = await plan([bad as string]);
    expect(undo.stepwise.get('m.t')).toMatch(/later transaction logged partial row images/);
    expect(undo.conflicts.map((c) => [c.key, c.later])).toEqual([[{ id: 2 }, [String(later?.g)]]]);
    expect(undo.statements).toHaveLength(3);
  });
});
