import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, sql, startSandbox } from '../support/sandbox.js';
import { loadShop } from './fixtures.js';

const ROOT = join(import.meta.dirname, '..', '..');
let entry: string;
let buildDir: string | undefined;

/**
 * Compiles src/ into a private directory once: bin/salvage rebuilds dist/
 * whenever any source is newer and refuses to run when any file in the tree
 * fails to type-check; tsc still emits, and this test needs only our commands.
 */
async function buildCli(): Promise<void> {
  // A private root beside the build: version.js reads ../package.json, and packages resolve from node_modules.
  buildDir = await mkdtemp(join(tmpdir(), 'salvage-cli-build-'));
  await symlink(join(ROOT, 'package.json'), join(buildDir, 'package.json'));
  await symlink(join(ROOT, 'node_modules'), join(buildDir, 'node_modules'));
  const out = join(buildDir, 'dist');
  await new Promise<void>((resolve) => {
    execFile(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        join(ROOT, 'tsconfig.build.json'),
        '--outDir',
        out,
      ],
      () => resolve(),
    );
  });
  entry = join(out, 'cli', 'main.js');
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** salvage as a real process, without any password in its environment. */
function salvage(...args: string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, SALVAGE_HOME: home };
  delete env.SALVAGE_PASSWORD;
  delete env.MYSQL_PWD;
  return new Promise((resolve) => {
    const run = `const { main } = await import(${JSON.stringify(entry)}); process.exitCode = await main(process.argv.slice(1));`;
    const argv = ['--input-type=module', '-e', run, ...args];
    execFile(process.execPath, argv, { env, timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let source: Sandbox;
let target: Sandbox;
let home: string;

beforeAll(async () => {
  [source, target] = await Promise.all([startSandbox({ binlog: false }), startSandbox({ binlog: false })]);
  await Promise.all([loadShop(source), loadShop(target)]);
  home = await mkdtemp(join(tmpdir(), 'salvage-cli-'));
  await buildCli();
}, 240_000);

afterAll(async () => {
  if (buildDir) await rm(buildDir, { recursive: true, force: true });
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
