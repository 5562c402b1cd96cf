/**
 * MariaDB logs no column names by default (binlog_row_metadata=NO_LOG/MINIMAL):
 * `binlog rows --source` takes them, with signedness and charsets, from the
 * live server; from files alone it says so and names columns @1, @2...
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSalvageInProcess } from '../support/cli.js';
import { type Sandbox, sql, startSandbox } from '../support/sandbox.js';

let server: Sandbox;

beforeAll(async () => {
  server = await startSandbox();
  await sql(
    server,
    `CREATE DATABASE shop;
     CREATE TABLE shop.t (id INT UNSIGNED PRIMARY KEY, name VARCHAR(20) CHARACTER SET utf8mb4);
     INSERT INTO shop.t VALUES (4000000000, 'héllo ☃')`,
  );
});

afterAll(async () => {
  await server?.destroy();
});

function insertsInto(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line.includes('"table":"t"'))
    .map((line) => JSON.parse(line).after);
}

describe('binlog rows: column facts from the live server', () => {
  it('names, signedness and charsets come from --source when the binlog lacks them', async () => {
    const [meta] = await sql<{ m: string }>(server, 'SELECT @@binlog_row_metadata AS m');
    expect(meta?.m).not.toBe('FULL');
    const run = await runSalvageInProcess(['binlog', 'rows', '--json', '--source', server.dsn]);
    expect(run.code, run.stderr).toBe(0);
    expect(insertsInto(run.stdout)).toEqual([{ id: 4000000000, name: 'héllo ☃' }]);
    expect(run.stderr).not.toMatch(/no column names/);
  });

  it('from files alone, says the names are missing and shows @1, @2', async () => {
    const run = await runSalvageInProcess(['binlog', 'rows', '--json', '--dir', join(server.dir, 'binlog')]);
    expect(run.code, run.stderr).toBe(0);
    const [after] = insertsInto(run.stdout);
    expect(Object.keys(after ?? {})).toEqual(['@1', '@2']);
    expect(run.stderr).toMatch(/no column names for shop\.t .*give --source/);
  });
});
