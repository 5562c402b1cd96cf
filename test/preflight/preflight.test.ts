import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackup } from '../../src/backup/index.js';
import { parseDsn, resolveTarget, withConnection } from '../../src/mysql/index.js';
import { type Check, runPreflight } from '../../src/preflight/index.js';
import { type CliRun, runSalvage } from '../support/cli.js';
import { type Sandbox, sql, startSandbox } from '../support/sandbox.js';

const PASSWORD = 'Pw-9f3k!zq7';

let ready: Sandbox;
let noBinlog: Sandbox;
let home: string;

/** Runs the CLI as a real process, with no password source but those given. */
function salvage(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runSalvage(args, { inheritEnv: false, env: { HOME: home, ...env } });
}

function checksOf(run: CliRun): Map<string, Check> {
  const report = JSON.parse(run.stdout) as { checks: Check[] };
  return new Map(report.checks.map((check) => [check.id, check]));
}

function userDsn(user: string): string {
  return `mysql://${user}@127.0.0.1:${ready.port}`;
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'salvage-preflight-home-'));
  [ready, noBinlog] = await Promise.all([startSandbox(), startSandbox({ binlog: false })]);
  await sql(
    ready,
    `CREATE USER 'recovery'@'%' IDENTIFIED BY '${PASSWORD}';
     GRANT ALL PRIVILEGES ON *.* TO 'recovery'@'%';
     CREATE DATABASE shop;
     CREATE USER 'reader'@'%' IDENTIFIED BY '${PASSWORD}';
     GRANT SELECT ON shop.* TO 'reader'@'%'`,
  );
  // Builds dist/ once, so the tests below do not race to build it.
  await salvage(['--version']);
});

afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('salvage preflight', () => {
  it('passes on a correctly configured server (exit 0)', async () => {
    const run = await salvage(['--json', 'preflight', '--source', ready.dsn]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.ok).toBe(true);
    expect(report.server).toMatchObject({ flavor: 'mariadb', port: ready.port, serverId: ready.serverId });
    const checks = checksOf(run);
    for (const id of [
      'binlog.enabled',
      'binlog.format',
      'binlog.row-image',
      'binlog.statement-text',
      'gtid.mode',
    ]) {
      expect(checks.get(id)?.status, id).toBe('pass');
    }
    for (const id of ['privileges.read-binlog', 'privileges.binlog-status', 'privileges.read-data']) {
      expect(checks.get(id)?.status, id).toBe('pass');
    }
  });

  it('fails on a server without a binary log (exit 1), naming the check and its fix', async () => {
    const json = await salvage(['--json', 'preflight', '--source', noBinlog.dsn]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).ok).toBe(false);
    const enabled = checksOf(json).get('binlog.enabled');
    expect(enabled?.status).toBe('fail');
    expect(enabled?.fix).toMatch(/log_bin = mysql-bin/);

    const human = await salvage(['preflight', '--source', noBinlog.dsn]);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^FAIL\s+binlog\.enabled\s+The binary log is off/m);
    expect(human.stdout).toMatch(/NOT READY/);
  });

  it('fails the privilege checks of an account that may only read one database, with the GRANT to run', async () => {
    const run = await salvage(['--json', 'preflight', '--source', userDsn('reader')], {
      SALVAGE_PASSWORD: PASSWORD,
    });
    expect(run.code).toBe(1);
    const checks = checksOf(run);
    expect(checks.get('privileges.read-binlog')).toMatchObject({
      status: 'fail',
      fix: "GRANT REPLICATION SLAVE ON *.* TO 'reader'@'%';",
    });
    expect(checks.get('privileges.read-data')?.status).toBe('fail');
    expect(checks.get('privileges.read-data')?.message).toMatch(/held only on shop/);
    expect(checks.get('privileges.backup')?.status).toBe('warn');
    expect(run.stdout).not.toContain(PASSWORD);
  });
});

describe('connecting', () => {
  it('refuses a wrong password with ACCESS_DENIED (exit 3) and never prints it', async () => {
    const wrong = 'Wrong-pw-7h2x';
    for (const args of [['--json'], []]) {
      const run = await salvage([...args, 'preflight', '--source', userDsn('recovery')], {
        SALVAGE_PASSWORD: wrong,
      });
      expect(run.code).toBe(3);
      expect(`${run.stdout}${run.stderr}`).toMatch(/ACCESS_DENIED/);
      expect(`${run.stdout}${run.stderr}`).toMatch(/SALVAGE_PASSWORD/);
      expect(`${run.stdout}${run.stderr}`).not.toContain(wrong);
    }
  });

  it('takes the right password from each source', async () => {
    const file = join(home, 'password');
    writeFileSync(file, `${PASSWORD}\n`, { mode: 0o600 });
    const cnfHome = mkdtempSync(join(tmpdir(), 'salvage-cnf-home-'));
    writeFileSync(join(cnfHome, '.my.cnf'), `[client]\npassword = "${PASSWORD}"\n`, { mode: 0o600 });
    const sources: [string, string[], Record<string, string>][] = [
      ['--password-file', ['--password-file', file], {}],
      ['SALVAGE_PASSWORD', [], { SALVAGE_PASSWORD: PASSWORD }],
      ['MYSQL_PWD', [], { MYSQL_PWD: PASSWORD }],
      ['~/.my.cnf', [], { HOME: cnfHome }],
    ];
    try {
      for (const [source, args, env] of sources) {
        const run = await salvage(['--json', 'preflight', '--source', userDsn('recovery'), ...args], env);
        expect(run.code, `${source}: ${run.stdout}${run.stderr}`).toBe(0);
        expect(run.stdout).not.toContain(PASSWORD);
      }
      // Without any source the same account is refused: the sources above were really used.
      const none = await salvage(['--json', 'preflight', '--source', userDsn('recovery')]);
      expect(none.code).toBe(3);
      expect(JSON.parse(none.stdout).error.message).toMatch(/without a password/);
    } finally {
      rmSync(cnfHome, { recursive: true, force: true });
    }
  });

  it('reports an unreachable port as CONNECT_FAILED naming host:port (exit 3)', async () => {
    const port = await closedPort();
    const run = await salvage(['--json', 'preflight', '--source', `mysql://root@127.0.0.1:${port}`]);
    expect(run.code).toBe(3);
    const { error } = JSON.parse(run.stdout);
    expect(error.code).toBe('CONNECT_FAILED');
    expect(error.message).toContain(`127.0.0.1:${port}`);
  });

  it('refuses a password on the command line (exit 2) without echoing it', async () => {
    for (const args of [['-p', 'Cli-pw-31x'], ['--password=Cli-pw-31x'], ['-pCli-pw-31x']]) {
      const run = await salvage(['preflight', '--source', ready.dsn, ...args]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/PASSWORD_ON_COMMAND_LINE/);
      expect(`${run.stdout}${run.stderr}`).not.toContain('Cli-pw-31x');
    }
    const inDsn = await salvage(['preflight', '--source', `mysql://root:Cli-pw-31x@127.0.0.1:${ready.port}`]);
    expect(inDsn.code).toBe(2);
    expect(`${inDsn.stdout}${inDsn.stderr}`).not.toContain('Cli-pw-31x');
  });

  it('rejects a bad DSN with BAD_DSN (exit 2)', async () => {
    const run = await salvage(['preflight', '--source', 'mysql://root@127.0.0.1:notaport']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/BAD_DSN.*port "notaport" is not a number/);
  });
});

describe('preflight --repo', () => {
  it('compares binlog retention with the oldest backup in the repository', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'salvage-preflight-repo-'));
    const repo = `file://${dir}`;
    try {
      await createBackup({
        source: resolveTarget(parseDsn(ready.dsn), { env: {}, home }),
        repo,
        method: 'logical',
      });
      await sql(ready, 'SET GLOBAL binlog_expire_logs_seconds = 86400');
      const run = await salvage(['preflight', '--source', ready.dsn, '--repo', repo, '--json']);
      const retention = checksOf(run).get('binlog.retention');
      expect(retention?.status).toBe('pass');
      expect(retention?.message).toMatch(/longer than the oldest backup's age/);
      const missing = await salvage(['preflight', '--source', ready.dsn, '--repo', `file://${dir}/none`]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/REPOSITORY_NOT_FOUND/);
    } finally {
      await sql(ready, 'SET GLOBAL binlog_expire_logs_seconds = 0');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('runPreflight on a misconfigured server', () => {
  it('fails row image, warns on statement text, checksum, GTID strictness and short retention', async () => {
    await sql(
      ready,
      `SET GLOBAL binlog_row_image = 'MINIMAL'; SET GLOBAL binlog_annotate_row_events = OFF;
       SET GLOBAL binlog_checksum = 'NONE'; SET GLOBAL gtid_strict_mode = OFF;
       SET GLOBAL binlog_expire_logs_seconds = 86400`,
    );
    const target = resolveTarget(parseDsn(ready.dsn), { env: {}, home });
    const now = new Date('2030-01-10T00:00:00Z');
    const backups = { oldestBackupTime: async () => new Date('2030-01-07T00:00:00Z') };
    const [withRepo, withoutRepo] = await withConnection(target, async (conn) => [
      await runPreflight(conn, { backups, now }),
      await runPreflight(conn, { now }),
    ]);
    const checks = new Map(withRepo.checks.map((check) => [check.id, check]));
    expect(withRepo.ok).toBe(false);
    expect(checks.get('binlog.row-image')).toMatchObject({ status: 'fail' });
    expect(checks.get('binlog.row-image')?.fix).toMatch(/^SET GLOBAL binlog_row_image = 'FULL';/);
    expect(checks.get('binlog.statement-text')).toMatchObject({ status: 'warn' });
    expect(checks.get('binlog.checksum')).toMatchObject({ status: 'warn' });
    expect(checks.get('gtid.mode')).toMatchObject({ status: 'warn' });
    expect(checks.get('binlog.retention')?.status).toBe('warn');
    expect(checks.get('binlog.retention')?.message).toMatch(/oldest backup is 3 days old/);
    expect(checks.get('binlog.retention')?.fix).toMatch(/binlog_expire_logs_seconds = 345600/);
    const retention = withoutRepo.checks.find((check) => check.id === 'binlog.retention');
    expect(retention?.message).toMatch(/kept only 1 days/);
  });
});

/** A port nothing listens on: bound once by us, then released. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
