import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, runSalvage } from '../support/cli.js';
import { type Sandbox, sql, startSandbox } from '../support/sandbox.js';
import { loadShop } from './fixtures.js';

/** salvage as a real process, without any password in its environment. */
function salvage(...args: string[]): Promise<CliRun> {
  return runSalvage(args, { env: { SALVAGE_HOME: home, SALVAGE_PASSWORD: undefined, MYSQL_PWD: undefined } });
}

let source: Sandbox;
let target: Sandbox;
let home: string;

beforeAll(async () => {
  [source, target] = await Promise.all([startSandbox({ binlog: false }), startSandbox({ binlog: false })]);
  await Promise.all([loadShop(source), loadShop(target)]);
  home = await mkdtemp(join(tmpdir(), 'salvage-cli-'));
}, 240_000);

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('verify, snapshot, detect, freeze as processes', () => {
  it('verify exits 0 for equal servers and 1 naming the table and key that differ', async () => {
    const equal = await salvage('verify', '--source', source.dsn, '--target', target.dsn, '--json');
    expect(equal.stderr).toBe('');
    expect(equal.code).toBe(0);
    expect(JSON.parse(equal.stdout).equal).toBe(true);

    await sql(target, "UPDATE shop.customers SET email = 'x@evil.test' WHERE id = 4242");
    try {
      const differs = await salvage('verify', '--source', source.dsn, '--target', target.dsn, '--json');
      expect(differs.code).toBe(1);
      const report = JSON.parse(differs.stdout);
      expect(report.equal).toBe(false);
      const customers = report.tables.find((t: { table: string }) => t.table === 'shop.customers');
      expect(customers).toMatchObject({
        status: 'differs',
        sample_keys: [{ key: { id: 4242 }, kind: 'changed' }],
      });
      const human = await salvage('verify', '--source', source.dsn, '--target', target.dsn);
      expect(human.code).toBe(1);
      expect(human.stdout).toMatch(/NOT EQUAL: shop\.customers differ/);
      expect(human.stdout).toMatch(/changed: \{"id":4242\}/);
    } finally {
      await sql(target, "UPDATE shop.customers SET email = 'user4242@example.com' WHERE id = 4242");
    }
  });

  it('verify --assert: a failing query exits 1, a missing file exits 2; --smoke sees the target DSN', async () => {
    const file = join(home, 'assert.sql');
    await writeFile(file, 'SELECT id FROM shop.customers WHERE id = 1;');
    const failing = await salvage(
      'verify',
      '--source',
      source.dsn,
      '--target',
      target.dsn,
      '--assert',
      file,
      '--json',
    );
    expect(failing.code).toBe(1);
    expect(JSON.parse(failing.stdout).assertions[0]).toMatchObject({ passed: false, rows: 1 });
    const missing = await salvage(
      'verify',
      '--source',
      source.dsn,
      '--target',
      target.dsn,
      '--assert',
      join(home, 'nope.sql'),
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/FILE_NOT_FOUND/);
    const smoke = await salvage(
      'verify',
      '--source',
      source.dsn,
      '--target',
      target.dsn,
      '--tables',
      'shop.orders',
      '--smoke',
      `test "$SALVAGE_TARGET_DSN" = "mysql://root@127.0.0.1:${target.port}" && test -z "$MYSQL_PWD"`,
      '--json',
    );
    expect(JSON.parse(smoke.stdout).smoke).toMatchObject({ passed: true, exit_code: 0 });
    expect(smoke.code).toBe(0);
  });

  it('snapshot then detect: clean exits 0, an orphan exits 1, a bad baseline exits 2', async () => {
    const baseline = join(home, 'baseline.json');
    const snap = await salvage('snapshot', '--source', source.dsn, '--out', baseline, '--json');
    expect(snap.code).toBe(0);
    expect(JSON.parse(snap.stdout)).toMatchObject({ file: baseline, tables: 3 });
    expect((await salvage('detect', '--source', source.dsn, '--baseline', baseline)).code).toBe(0);
    await sql(source, "SET FOREIGN_KEY_CHECKS=0; INSERT INTO shop.orders VALUES ('ORD-LOST', 123456, 1)");
    try {
      const found = await salvage('detect', '--source', source.dsn, '--baseline', baseline, '--json');
      expect(found.code).toBe(1);
      expect(JSON.parse(found.stdout).findings[0]).toMatchObject({
        kind: 'foreign_key_orphans',
        table: 'shop.orders',
      });
    } finally {
      await sql(source, "DELETE FROM shop.orders WHERE code = 'ORD-LOST'");
    }
    await writeFile(join(home, 'bad.json'), '{"format":"something-else"}');
    const bad = await salvage(
      'detect',
      '--source',
      source.dsn,
      '--baseline',
      join(home, 'bad.json'),
      '--json',
    );
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).error.code).toBe('BAD_INPUT');
  });

  it('freeze and thaw exit 0 and thaw restores the setting', async () => {
    const frozen = await salvage('freeze', '--source', target.dsn, '--json');
    expect(frozen.code).toBe(0);
    expect(JSON.parse(frozen.stdout).state_file.startsWith(join(home, 'state'))).toBe(true);
    expect(await sql(target, 'SELECT @@global.read_only AS ro')).toEqual([{ ro: '1' }]);
    const thawed = await salvage('thaw', '--source', target.dsn);
    expect(thawed.code).toBe(0);
    expect(thawed.stdout).toMatch(/SET GLOBAL read_only = OFF/);
    expect(await sql(target, 'SELECT @@global.read_only AS ro')).toEqual([{ ro: '0' }]);
  });
});
