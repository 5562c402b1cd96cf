/**
 * What undo refuses rather than write wrong SQL: schema changes in the bad
 * transactions (with a restore plan), partial row images (naming the missing
 * column), a table altered since.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connection, connect as connectServer, parseDsn, resolveTarget } from '../../src/mysql/index.js';
import { planUndo } from '../../src/undo/index.js';
import { type Sandbox, sql, startSandbox } from '../support/sandbox.js';

let full: Sandbox;
let minimal: Sandbox;
const conns: Connection[] = [];

async function open(server: Sandbox): Promise<Connection> {
  const conn = await connectServer(resolveTarget(parseDsn(server.dsn)));
  conns.push(conn);
  return conn;
}

async function gtidNow(server: Sandbox): Promise<string> {
  const [row] = await sql<{ g: string }>(server, 'SELECT @@gtid_binlog_pos AS g');
  return String(row?.g);
}

async function refusal(server: Sandbox, gtid: string): Promise<{ code: string; message: string }> {
  const conn = await open(server);
  const error = await planUndo({
    gtids: [gtid],
    binlog: { dir: join(server.dir, 'binlog') },
    conn,
  }).then(
    () => undefined,
    (e: { code: string; message: string }) => e,
  );
  expect(error, 'planUndo should refuse').toBeDefined();
  return error as { code: string; message: string };
}

beforeAll(async () => {
  [full, minimal] = await Promise.all([
    startSandbox(),
    startSandbox({ serverOptions: { binlog_row_image: 'MINIMAL' } }),
  ]);
  for (const server of [full, minimal]) {
    await sql(
      server,
      "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, a VARCHAR(10), b INT); INSERT INTO app.t VALUES (1, 'x', 1), (2, 'y', 2);",
    );
  }
});

afterAll(async () => {
  await Promise.all(conns.map((c) => c.end()));
});

describe('undo refuses', () => {
  it('a TRUNCATE, with what was lost and a restore plan', async () => {
    await sql(full, 'TRUNCATE TABLE app.t');
    const gtid = await gtidNow(full);
    const error = await refusal(full, gtid);
    expect(error.code).toBe('UNDO_DDL');
    expect(error.message).toContain('every row of the table (app.t)');
    expect(error.message).toContain(
      `salvage restore --repo URL --tables app.t --before ${gtid} --into sandbox`,
    );
    expect(error.message).toContain('cannot be recovered');
  });

  it('a DROP TABLE, a DROP COLUMN and a narrowing MODIFY, each with what was lost', async () => {
    await sql(
      full,
      `CREATE TABLE app.gone (id INT PRIMARY KEY); CREATE TABLE app.slim (id INT PRIMARY KEY, a VARCHAR(10), b INT);
       INSERT INTO app.slim VALUES (1, 'abcdef', 1);`,
    );
    const cases: [string, string][] = [
      ['DROP TABLE app.gone', 'the whole table: schema and every row (app.gone)'],
      ['ALTER TABLE app.slim DROP COLUMN b', 'the dropped column(s) of every row (app.slim)'],
      ["SET SESSION sql_mode = ''; ALTER TABLE app.slim MODIFY a VARCHAR(2)", 'narrower type truncated'],
    ];
    for (const [statement, loss] of cases) {
      await sql(full, statement);
      const gtid = await gtidNow(full);
      const error = await refusal(full, gtid);
      expect(error.code, statement).toBe('UNDO_DDL');
      expect(error.message).toContain(loss);
      expect(error.message).toContain('--before');
    }
  });

  it('a partial (MINIMAL) row image, naming the missing column', async () => {
    await sql(minimal, "UPDATE app.t SET a = 'z' WHERE id = 1");
    const error = await refusal(minimal, await gtidNow(minimal));
    expect(error.code).toBe('UNDO_NOT_EXACT');
    expect(error.message).toContain('the binlog row images of app.t lack columns a, b, id');
  });

  it('a table whose columns changed since', async () => {
    await sql(minimal, 'CREATE TABLE app.u (id INT PRIMARY KEY, a INT); INSERT INTO app.u VALUES (1, 1);');
    await sql(minimal, 'DELETE FROM app.u');
    const gtid = await gtidNow(minimal);
    await sql(minimal, 'ALTER TABLE app.u ADD COLUMN c INT');
    const error = await refusal(minimal, gtid);
    expect(error.code).toBe('BAD_INPUT');
    expect(error.message).toContain('has 3 columns now but 2 in the binlog');
  });
});
