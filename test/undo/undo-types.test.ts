/**
 * The undo of one bad transaction over every column type family gives back
 * the table checksums taken before it; keyless tables with duplicate rows too.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connection, connect as connectServer, parseDsn, resolveTarget } from '../../src/mysql/index.js';
import { applyUndo, planUndo, undoScript } from '../../src/undo/index.js';
import { type Sandbox, sql, startSandbox } from '../support/sandbox.js';

const TABLES = ['ints', 'nums', 'times', 'bits', 'bins', 'texts', 'docs', 'geo', 'dupes'];

const SCHEMA = `
CREATE DATABASE app;
CREATE TABLE app.ints (id INT PRIMARY KEY, ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, su SMALLINT UNSIGNED,
  mi MEDIUMINT, mu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED);
INSERT INTO app.ints VALUES
  (1, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295, -9223372036854775808, 18446744073709551615),
  (2, 127, 0, 32767, 0, 8388607, 0, 2147483647, 0, 9223372036854775807, 0),
  (3, 0, 128, 0, 32768, 0, 8388608, 0, 2147483648, 0, 9223372036854775808);
CREATE TABLE app.nums (id INT PRIMARY KEY, d DECIMAL(65,30), d2 DECIMAL(10,2), f FLOAT, db DOUBLE);
INSERT INTO app.nums VALUES (1, '-12345678901234567890123456789012345.123456789012345678901234567890', -0.01, 1.1, 0.1),
  (2, 0, 99999999.99, -3.4e38, 1.7976931348623157e308), (3, NULL, NULL, 1.17549e-38, 4.9e-324);
CREATE TABLE app.times (id INT PRIMARY KEY, dt DATE, tm TIME(3), dtm DATETIME(6), ts TIMESTAMP(6) NULL DEFAULT NULL, y YEAR);
INSERT INTO app.times VALUES (1, '1000-01-01', '-838:59:58.999', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999999', 1901),
  (2, '2024-02-29', '00:00:00.001', '1970-01-01 00:00:00.000001', '1970-01-01 00:00:01.000000', 2155),
  (3, NULL, '12:34:56.5', '2024-06-01 12:00:00', NULL, 0);
CREATE TABLE app.bits (id INT PRIMARY KEY, b1 BIT(1), b10 BIT(10), b64 BIT(64));
INSERT INTO app.bits VALUES (1, b'1', b'1000000001', b'1111111111111111111111111111111111111111111111111111111111111111'),
  (2, b'0', b'0', b'0'), (3, NULL, b'101', b'1');
CREATE TABLE app.bins (id INT PRIMARY KEY, bn BINARY(8), vb VARBINARY(32), bl BLOB);
INSERT INTO app.bins VALUES (1, X'0001', X'00ff00', X'deadbeef00'), (2, X'ffffffffffffffff', X'612762', ''),
  (3, NULL, X'5c27225c', REPEAT(X'00', 1000));
CREATE TABLE app.texts (id INT PRIMARY KEY, u VARCHAR(100) CHARACTER SET utf8mb4, l VARCHAR(100) CHARACTER SET latin1,
  c CHAR(10), t TEXT, e ENUM('a','b','c'), s SET('x','y','z'));
INSERT INTO app.texts VALUES (1, 'héllo 🌍 中文', 'café ''ß', 'pad', 'it''s a "quote" \\\\ back\\nline', 'b', 'x,z'),
  (2, '', '', '', '', 'a', ''), (3, NULL, 'Ünïcødé', NULL, NULL, NULL, NULL);
CREATE TABLE app.docs (id INT PRIMARY KEY, j JSON);
INSERT INTO app.docs VALUES (1, '{"a": [1, 2.5, "x"], "b": null}'), (2, '[]'), (3, NULL);
CREATE TABLE app.geo (id INT PRIMARY KEY, g GEOMETRY, p POINT);
INSERT INTO app.geo VALUES (1, ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))'), ST_GeomFromText('POINT(1.5 -2.25)')),
  (2, ST_GeomFromText('LINESTRING(0 0,1 1)', 4326), NULL), (3, NULL, ST_GeomFromText('POINT(0 0)'));
CREATE TABLE app.dupes (a INT, b VARCHAR(10));
INSERT INTO app.dupes VALUES (1, 'same'), (1, 'same'), (2, 'other'), (NULL, NULL);
`;

const BAD = `
START TRANSACTION;
UPDATE app.ints SET ti = ti DIV 2, tu = tu DIV 2, si = 1, su = 1, mi = 1, mu = 1, i = 1, iu = 1, bi = 1, bu = 1 WHERE id IN (1, 2);
DELETE FROM app.ints WHERE id = 3;
INSERT INTO app.ints VALUES (4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
UPDATE app.nums SET d = 1, d2 = 2, f = 3, db = 4;
DELETE FROM app.nums WHERE id = 3;
UPDATE app.times SET dt = '2000-01-01', tm = '01:02:03', dtm = '2000-01-01 00:00:00', ts = '2000-01-01 00:00:00', y = 2000 WHERE id <= 2;
DELETE FROM app.times WHERE id = 3;
UPDATE app.bits SET b1 = NOT b1, b10 = b'1', b64 = b'10';
DELETE FROM app.bits WHERE id = 1;
UPDATE app.bins SET bn = X'01', vb = X'02', bl = X'03';
DELETE FROM app.bins WHERE id = 3;
INSERT INTO app.bins VALUES (4, X'00', X'00', X'00');
UPDATE app.texts SET u = 'x', l = 'y', c = 'z', t = NULL, e = 'c', s = 'y';
DELETE FROM app.texts WHERE id = 1;
UPDATE app.docs SET j = '{"changed": true}';
DELETE FROM app.docs WHERE id = 1;
UPDATE app.geo SET g = ST_GeomFromText('POINT(9 9)'), p = ST_GeomFromText('POINT(8 8)');
DELETE FROM app.geo WHERE id = 1;
DELETE FROM app.dupes WHERE a = 1;
UPDATE app.dupes SET b = 'changed' WHERE a = 2;
INSERT INTO app.dupes VALUES (3, 'new'), (3, 'new');
COMMIT;
`;

let server: Sandbox;
let conn: Connection;

beforeAll(async () => {
  server = await startSandbox();
  await sql(server, SCHEMA);
  conn = await connectServer(resolveTarget(parseDsn(server.dsn)));
});

afterAll(async () => {
  await conn?.end();
});

async function checksums(): Promise<Record<string, string>> {
  const rows = await sql<{ Table: string; Checksum: string }>(
    server,
    `CHECKSUM TABLE ${TABLES.map((t) => `app.${t}`).join(', ')} EXTENDED`,
  );
  return Object.fromEntries(rows.map((r) => [r.Table, String(r.Checksum)]));
}

async function lastGtid(): Promise<string> {
  const [row] = await sql<{ g: string }>(server, 'SELECT @@gtid_binlog_pos AS g');
  return String(row?.g);
}

describe('undo over every type family', () => {
  it('gives back the checksums taken before the bad transaction', async () => {
    const before = await checksums();
    await sql(server, BAD);
    const gtid = await lastGtid();
    const damaged = await checksums();
    for (const table of TABLES) expect(damaged[`app.${table}`], table).not.toBe(before[`app.${table}`]);

    const plan = await planUndo({
      gtids: [gtid],
      binlog: { dir: join(server.dir, 'binlog') },
      conn,
    });
    expect(plan.conflicts).toEqual([]);
    expect(plan.transactions.map((t) => t.gtid)).toEqual([gtid]);
    const script = undoScript(plan, { source: server.dsn, title: 'undo' });
    expect(script).toContain('START TRANSACTION;');
    await applyUndo(conn, plan, {
      savePrefix: join(server.dir, 'undo'),
      header: { source: server.dsn, title: 'undo' },
    });
    expect(await checksums()).toEqual(before);
  });

  it('finds a later change to any of those columns, however small, as a conflict', async () => {
    await sql(server, BAD);
    const gtid = await lastGtid();
    // One row of each table changed again after the bad transaction, by a little.
    await sql(
      server,
      `UPDATE app.ints SET bu = bu + 1 WHERE id = 1;
       UPDATE app.nums SET d2 = 2.01 WHERE id = 1;
       UPDATE app.times SET dtm = '2000-01-01 00:00:00.000001' WHERE id = 1;
       UPDATE app.bits SET b10 = b'11' WHERE id = 2;
       UPDATE app.bins SET vb = X'0200' WHERE id = 1;
       UPDATE app.texts SET u = 'X' WHERE id = 2;
       UPDATE app.docs SET j = '{"changed": false}' WHERE id = 2;
       UPDATE app.geo SET p = ST_GeomFromText('POINT(8 8.000001)') WHERE id = 2;
       UPDATE app.dupes SET b = 'again' WHERE a = 2;`,
    );
    const plan = await planUndo({
      gtids: [gtid],
      binlog: { dir: join(server.dir, 'binlog') },
      conn,
    });
    expect(plan.conflicts.map((c) => c.table).sort()).toEqual(TABLES.map((t) => `app.${t}`).sort());
  });
});
