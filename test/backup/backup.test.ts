/**
 * Backups of a real sandbox, physical and logical: the manifest records the
 * consistent point the server reports, files re-hash, a damaged byte is named
 * and refused, an interrupted backup is never complete, and a restore into a
 * new sandbox has the same table checksums as the source at backup time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { cp, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type BackupManifest,
  createBackup,
  listBackups,
  openRepository,
  restoreBackup,
  verifyBackup,
} from '../../src/backup/index.js';
import { main } from '../../src/cli/main.js';
import { SalvageError } from '../../src/errors.js';
import { parseDsn, resolveTarget } from '../../src/mysql/index.js';
import { type Sandbox, sql, startSandbox, TEST_SANDBOX_BASE } from '../support/sandbox.js';

let source: Sandbox;
let workDir: string;
let repoUrl: string;
let checksums: Record<string, string>;
let masterStatus: { file: string; position: number; gtid: string };
const backups: Partial<Record<'physical' | 'logical', BackupManifest>> = {};
const timings: string[] = [];

const TABLES = ['app.customers', 'app.orders', 'app.payloads', 'app.latin'];

const SCHEMA = `
CREATE DATABASE app CHARACTER SET utf8mb4;
CREATE TABLE app.customers (
  id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(100) NOT NULL, balance DECIMAL(20,6) NOT NULL,
  joined DATETIME(6), seen TIMESTAMP(3) NULL, ratio FLOAT, score DOUBLE, flags BIT(5), kind ENUM('a','bé','c'),
  doc JSON, upper_name VARCHAR(100) AS (UPPER(name)) VIRTUAL) ENGINE=InnoDB;
CREATE TABLE app.orders (
  id BIGINT UNSIGNED PRIMARY KEY, customer_id INT NOT NULL, amount DECIMAL(65,30), note TEXT,
  CONSTRAINT fk_customer FOREIGN KEY (customer_id) REFERENCES app.customers (id)) ENGINE=InnoDB;
CREATE TABLE app.payloads (id INT PRIMARY KEY, data LONGBLOB, small VARBINARY(16)) ENGINE=InnoDB;
CREATE TABLE app.latin (id INT PRIMARY KEY, t VARCHAR(20) CHARACTER SET latin1) ENGINE=InnoDB;
CREATE TABLE app.audit (id INT PRIMARY KEY AUTO_INCREMENT, order_id BIGINT UNSIGNED) ENGINE=InnoDB;
CREATE VIEW app.big_orders AS SELECT o.id, c.name FROM app.orders o JOIN app.customers c ON c.id = o.customer_id WHERE o.amount > 100;
CREATE TRIGGER app.orders_audit AFTER INSERT ON app.orders FOR EACH ROW INSERT INTO app.audit (order_id) VALUES (NEW.id);
CREATE PROCEDURE app.count_orders(OUT n INT) SELECT COUNT(*) INTO n FROM app.orders;
`;

const DATA = `
SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO');
INSERT INTO app.customers (id, name, balance, joined, seen, ratio, score, flags, kind, doc) VALUES
  (0, 'zero id', 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (1, 'Ann O''Neil "quoted" \\\\ back', 12345678901234.123456, '2024-02-29 23:59:59.999999', '2024-03-10 02:30:00.123', 0.1, 0.30000000000000004, b'10101', 'bé', '{"a": [1, 2.5, "x"]}'),
  (2, 'Émilie 🚀 tab\\tnewline\\n', -0.000001, '1000-01-01 00:00:00.000000', '1970-01-01 00:00:01.000', 3.4028234e38, 1.7976931348623157e308, b'00000', 'a', '"s"'),
  (3, 'NUL \\0 byte', 99999999999999.999999, '9999-12-31 23:59:59.999999', NULL, -1.17549435e-38, 4.9e-324, b'11111', 'c', 'null');
INSERT INTO app.customers (name, balance, joined)
  SELECT CONCAT('customer ', seq), seq * 1.5, '2024-01-01 00:00:00' + INTERVAL seq SECOND FROM app.seq_4_to_3000;
INSERT INTO app.orders (id, customer_id, amount, note)
  SELECT seq, 1 + seq % 3000, seq / 7, REPEAT('note ', seq % 50) FROM app.seq_1_to_20000;
INSERT INTO app.orders VALUES (18446744073709551615, 1, 12345678901234567890123456789012345.123456789012345678901234567890, NULL);
INSERT INTO app.payloads VALUES (1, RANDOM_BYTES(1024), X'00ff'), (2, '', ''), (3, NULL, NULL), (4, REPEAT(X'00010203fffefd', 50000), X'0a0d09275c');
INSERT INTO app.latin VALUES (1, CONVERT(X'e9e8ff' USING latin1)), (2, 'plain');
`;

async function tableChecksums(server: Sandbox): Promise<Record<string, string>> {
  const rows = await sql<{ Table: string; Checksum: string }>(
    server,
    `CHECKSUM TABLE ${[...TABLES, 'app.audit'].join(', ')}`,
  );
  return Object.fromEntries(rows.map((r) => [r.Table, String(r.Checksum)]));
}

function sourceTarget(server: Sandbox) {
  return resolveTarget(parseDsn(server.dsn), { env: {}, home: workDir, tls: { mode: 'disabled' } });
}

/** Runs the CLI in-process and returns its exit status and stdout. */
async function cli(args: string[]): Promise<{ status: number; stdout: string }> {
  let stdout = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  const previous = process.exitCode;
  try {
    process.exitCode = undefined;
    const status = await main(args);
    return { status, stdout };
  } finally {
    process.stdout.write = write;
    process.exitCode = previous;
  }
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'salvage-backup-test-'));
  repoUrl = pathToFileURL(join(workDir, 'repo')).href;
  source = await startSandbox();
  await sql(source, SCHEMA);
  await sql(source, DATA);
  checksums = await tableChecksums(source);
  const [status] = await sql<{ File: string; Position: number }>(source, 'SHOW MASTER STATUS');
  const [gtid] = await sql<{ g: string }>(source, 'SELECT @@gtid_binlog_pos AS g');
  masterStatus = { file: String(status?.File), position: Number(status?.Position), gtid: String(gtid?.g) };
  for (const method of ['logical', 'physical'] as const) {
    const started = performance.now();
    backups[method] = await createBackup({ source: sourceTarget(source), repo: repoUrl, method });
    const manifest = backups[method];
    timings.push(
      `${method} backup: ${Math.round(performance.now() - started)} ms, stored ${manifest?.totalSize} bytes (raw ${manifest?.totalRawSize})`,
    );
  }
}, 300_000);

afterAll(async () => {
  if (timings.length > 0) process.stderr.write(`${timings.join('\n')}\n`);
  await rm(workDir, { recursive: true, force: true });
});

describe.each(['logical', 'physical'] as const)('%s backup', (method) => {
  test('the manifest records the server, the consistent point and every file', () => {
    const manifest = backups[method] as BackupManifest;
    expect(manifest.method).toBe(method);
    expect(manifest.id).toMatch(/^\d{8}T\d{9}Z-[0-9a-f]{4}$/);
    expect(manifest.tool.name).toBe(method === 'physical' ? 'mariabackup' : 'salvage-logical');
    expect(manifest.tool.version).toMatch(/^\d+\.\d+/);
    expect(manifest.server).toMatchObject({
      flavor: 'mariadb',
      port: source.port,
      serverId: source.serverId,
    });
    expect(manifest.consistentPoint.binlog).toEqual({
      file: masterStatus.file,
      position: masterStatus.position,
    });
    expect(manifest.consistentPoint.gtid).toBe(masterStatus.gtid);
    expect(Date.parse(manifest.finishedAt)).toBeGreaterThanOrEqual(Date.parse(manifest.startedAt));
    expect(manifest.files.length).toBeGreaterThan(0);
    for (const file of manifest.files) {
      expect(file.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(file.size).toBeGreaterThan(0);
    }
    expect(manifest.totalSize).toBe(manifest.files.reduce((sum, f) => sum + f.size, 0));
    if (method === 'logical') {
      const rows = Object.fromEntries(
        manifest.files
          .filter((f) => f.table)
          .map((f) => [`${f.table?.schema}.${f.table?.name}`, f.table?.rows]),
      );
      expect(rows).toEqual({
        'app.customers': 3001,
        'app.orders': 20001,
        'app.payloads': 4,
        'app.latin': 2,
        'app.audit': 20001,
      });
    }
  });

  test('verify re-hashes every file and passes', async () => {
    const result = await verifyBackup(repoUrl, (backups[method] as BackupManifest).id);
    expect(result.ok).toBe(true);
    expect(result.files.every((f) => f.ok)).toBe(true);
    expect(result.files).toHaveLength((backups[method] as BackupManifest).files.length);
  });

  test('a restore into a new sandbox has the source table checksums, views, triggers and routines', async () => {
    const restored = await restoreBackup(repoUrl, (backups[method] as BackupManifest).id, {
      kind: 'sandbox',
      options: { baseDir: TEST_SANDBOX_BASE },
      create: (options) => startSandbox(options),
    });
    const sandbox = restored.sandbox as Sandbox;
    try {
      timings.push(`${method} restore: ${restored.seconds} s`);
      expect(sandbox.port).not.toBe(source.port);
      expect(await tableChecksums(sandbox)).toEqual(checksums);
      const [view] = await sql<{ n: number }>(sandbox, 'SELECT COUNT(*) AS n FROM app.big_orders');
      expect(Number(view?.n)).toBeGreaterThan(0);
      // The trigger exists again, and did not fire while the data was loaded.
      await sql(sandbox, "INSERT INTO app.orders VALUES (99999999, 1, 1, 'x')");
      const [audit] = await sql<{ n: number }>(sandbox, 'SELECT COUNT(*) AS n FROM app.audit');
      expect(Number(audit?.n)).toBe(20002);
      const [count] = await sql<{ n: number }>(sandbox, 'CALL app.count_orders(@n); SELECT @n AS n');
      expect(Number(count?.n)).toBe(20002);
    } finally {
      await sandbox.destroy();
    }
  });

  test('a damaged byte fails verify naming the file (exit 1) and the restore refuses it', async () => {
    const manifest = backups[method] as BackupManifest;
    const copyDir = join(workDir, `damaged-${method}`);
    await cp(join(workDir, 'repo'), copyDir, { recursive: true });
    const copyUrl = pathToFileURL(copyDir).href;
    const victim = [...manifest.files].sort((a, b) => b.size - a.size)[0];
    if (victim === undefined) throw new Error('no files');
    const path = join(copyDir, 'backups', manifest.id, victim.path);
    const handle = await open(path, 'r+');
    const offset = Math.floor(victim.size / 2);
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, offset);
    byte[0] = (byte[0] as number) ^ 0x01;
    await handle.write(byte, 0, 1, offset);
    await handle.close();

    const result = await cli(['backup', 'verify', manifest.id, '--repo', copyUrl, '--json']);
    expect(result.status).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.ok).toBe(false);
    expect(report.files.filter((f: { ok: boolean }) => !f.ok).map((f: { path: string }) => f.path)).toEqual([
      victim.path,
    ]);

    const refused = await restoreBackup(copyUrl, manifest.id, {
      kind: 'sandbox',
      options: { baseDir: TEST_SANDBOX_BASE },
      create: (options) => startSandbox(options),
    }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SalvageError);
    expect((refused as SalvageError).code).toBe('BACKUP_CHECKSUM');
    expect((refused as SalvageError).context.file).toBe(victim.path);
    expect((refused as SalvageError).message).toContain(victim.path);
  });
});

test('backup list shows both backups, oldest first, in JSON', async () => {
  const result = await cli(['backup', 'list', '--repo', repoUrl, '--json']);
  expect(result.status).toBe(0);
  const listing = JSON.parse(result.stdout);
  expect(listing.backups.map((b: BackupManifest) => b.method)).toEqual(['logical', 'physical']);
  expect(listing.incomplete).toEqual([]);
});

test('a backup whose tool is killed mid-way fails with TOOL_FAILED and leaves nothing listed', async () => {
  const repo = pathToFileURL(join(workDir, 'interrupted')).href;
  const failure = await createBackup({
    source: sourceTarget(source),
    repo,
    method: 'physical',
    onProgress: (event) => {
      if (event.kind === 'tool-started') setTimeout(() => process.kill(event.pid, 'SIGKILL'), 300);
    },
  }).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(SalvageError);
  expect((failure as SalvageError).code).toBe('TOOL_FAILED');
  expect((failure as SalvageError).message).toMatch(/mariabackup was killed by SIGKILL/);
  const listing = await listBackups(await openRepository(repo));
  expect(listing.backups).toEqual([]);
  expect(listing.incomplete).toEqual([]);
  // The lock went with it: the next backup runs.
  const next = await createBackup({ source: sourceTarget(source), repo, method: 'logical', workers: 1 });
  expect(next.consistentPoint.binlog).toEqual({ file: masterStatus.file, position: masterStatus.position });
  expect(next.consistentPoint.gtid).toBe(masterStatus.gtid);
});

test('a backup left by a crashed process is reported as abandoned, never as complete', async () => {
  const repo = await openRepository(pathToFileURL(join(workDir, 'crashed')).href, { create: true });
  const dead = spawnSync('true').pid as number;
  const id = '20240101T000000000Z-dead';
  const dir = join(workDir, 'crashed', 'backups', id);
  await cp(
    join(workDir, 'repo', 'backups', (backups.logical as BackupManifest).id, 'data'),
    join(dir, 'data'),
    {
      recursive: true,
    },
  );
  await writeFile(
    join(dir, 'in-progress.json'),
    JSON.stringify({
      pid: dead,
      host: (await import('node:os')).hostname(),
      startedAt: '2024-01-01T00:00:00Z',
      backupId: id,
    }),
  );
  const listing = await listBackups(repo);
  expect(listing.backups).toEqual([]);
  expect(listing.incomplete).toEqual([expect.objectContaining({ id, state: 'abandoned', pid: dead })]);
  const verify = await verifyBackup(repo.url, id).catch((error: unknown) => error);
  expect((verify as SalvageError).code).toBe('BACKUP_NOT_FOUND');
  expect((verify as SalvageError).message).toMatch(/incomplete/);
});

test('verify --restore-test restores the logical backup, checks every table and destroys the sandbox', async () => {
  const manifest = backups.logical as BackupManifest;
  const result = await verifyBackup(repoUrl, manifest.id, {
    restoreTest: true,
    sandbox: {
      kind: 'sandbox',
      options: { baseDir: TEST_SANDBOX_BASE },
      create: (options) => startSandbox(options),
    },
  });
  expect(result.restoreTest).toMatchObject({ ok: true, tables: 5, failures: [] });
  expect(result.ok).toBe(true);
  const manifestText = await readFile(join(workDir, 'repo', 'backups', manifest.id, 'manifest.json'), 'utf8');
  expect(JSON.parse(manifestText).id).toBe(manifest.id);
});

test('a restore into the source server itself is refused', async () => {
  const refused = await restoreBackup(repoUrl, (backups.logical as BackupManifest).id, {
    kind: 'server',
    target: sourceTarget(source),
  }).catch((error: unknown) => error);
  expect((refused as SalvageError).code).toBe('REFUSED_SOURCE');
});

// Last: it adds a user, which moves the source's binlog position.
test('the tool gets the password from a private option file, never on its command line', async () => {
  const password = `pa ss"wo\\rd'#;${process.pid}`;
  await sql(source, "CREATE USER 'backup'@'127.0.0.1' IDENTIFIED BY ?", [password]);
  await sql(source, "GRANT ALL ON *.* TO 'backup'@'127.0.0.1'");
  const passwordFile = join(workDir, 'backup.password');
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  const target = resolveTarget(parseDsn(`mysql://backup@127.0.0.1:${source.port}`), {
    passwordFile,
    env: {},
    home: workDir,
    tls: { mode: 'disabled' },
  });
  let cmdline = '';
  let optionFile = '';
  let optionMode = 0;
  const manifest = await createBackup({
    source: target,
    repo: repoUrl,
    method: 'physical',
    onProgress: (event) => {
      if (event.kind !== 'tool-started') return;
      cmdline = readFileSync(`/proc/${event.pid}/cmdline`, 'utf8').split('\0').join(' ');
      optionFile = /--defaults-file=(\S+)/.exec(cmdline)?.[1] ?? '';
      optionMode = statSync(optionFile).mode & 0o777;
    },
  });
  expect(manifest.consistentPoint.binlog).not.toBeNull();
  expect(cmdline).toContain('--defaults-file=');
  expect(cmdline).not.toContain(password);
  expect(cmdline).not.toContain('rd');
  expect(optionMode).toBe(0o600);
  expect(existsSync(optionFile)).toBe(false);
});
