import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSandbox, listSandboxes } from '../../src/environment/index.js';
import { isSalvageError, type SalvageError } from '../../src/errors.js';
import { isProcessAlive, type Sandbox, sql, startSandbox, TEST_SANDBOX_BASE } from '../support/sandbox.js';

async function variables(sandbox: Sandbox, names: string[]): Promise<Record<string, string>> {
  const rows = await sql<{ Variable_name: string; Value: string }>(
    sandbox,
    `SHOW GLOBAL VARIABLES WHERE Variable_name IN (${names.map(() => '?').join(',')})`,
    names,
  );
  return Object.fromEntries(rows.map((r) => [r.Variable_name, r.Value]));
}

async function caught(promise: Promise<unknown>): Promise<SalvageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isSalvageError(error)) throw new Error(`expected a SalvageError, got ${String(error)}`);
  return error;
}

async function registryNames(): Promise<string[]> {
  return (await listSandboxes({ baseDir: TEST_SANDBOX_BASE })).map((s) => s.name);
}

describe('sandbox lifecycle', () => {
  it('creates a server with the binlog configured for recovery, then destroys it without leftovers', async () => {
    const began = performance.now();
    const sandbox = await startSandbox();
    const startMs = performance.now() - began;
    process.stderr.write(`sandbox create+start: ${startMs.toFixed(0)} ms\n`);

    expect(sandbox.dsn).toBe(`mysql://root@127.0.0.1:${sandbox.port}`);
    expect(isProcessAlive(sandbox.pid)).toBe(true);
    expect(sandbox.isRunning()).toBe(true);
    const vars = await variables(sandbox, [
      'log_bin',
      'log_bin_basename',
      'binlog_format',
      'binlog_row_image',
      'binlog_annotate_row_events',
      'binlog_checksum',
      'gtid_strict_mode',
      'server_id',
      'port',
      'bind_address',
      'socket',
      'performance_schema',
      'skip_name_resolve',
      'tmpdir',
    ]);
    expect(vars).toMatchObject({
      log_bin: 'ON',
      log_bin_basename: join(sandbox.dir, 'binlog', 'binlog'),
      binlog_format: 'ROW',
      binlog_row_image: 'FULL',
      binlog_annotate_row_events: 'ON',
      binlog_checksum: 'CRC32',
      gtid_strict_mode: 'ON',
      server_id: String(sandbox.serverId),
      port: String(sandbox.port),
      bind_address: '127.0.0.1',
      socket: sandbox.socket,
      performance_schema: 'OFF',
      skip_name_resolve: 'ON',
      tmpdir: join(sandbox.dir, 'run'),
    });
    const [user] = await sql<{ who: string }>(sandbox, 'SELECT CURRENT_USER() AS who');
    expect(user?.who).toBe('root@127.0.0.1');
    expect(await registryNames()).toContain(sandbox.name);

    await sandbox.destroy();
    expect(isProcessAlive(sandbox.pid)).toBe(false);
    expect(existsSync(sandbox.dir)).toBe(false);
    expect(await registryNames()).not.toContain(sandbox.name);
  });

  it('starts without a binary log and with extra server options when asked', async () => {
    const plain = await startSandbox({ binlog: false });
    expect(await variables(plain, ['log_bin'])).toEqual({ log_bin: 'OFF' });
    const minimal = await startSandbox({
      serverOptions: { binlog_row_image: 'MINIMAL', binlog_row_metadata: 'FULL' },
    });
    expect(await variables(minimal, ['log_bin', 'binlog_row_image', 'binlog_row_metadata'])).toEqual({
      log_bin: 'ON',
      binlog_row_image: 'MINIMAL',
      binlog_row_metadata: 'FULL',
    });
    expect(minimal.serverId).not.toBe(plain.serverId);
  });

  it('stops cleanly and starts again with its data', async () => {
    const sandbox = await startSandbox();
    await sql(
      sandbox,
      'CREATE DATABASE kept; CREATE TABLE kept.t (id INT PRIMARY KEY); INSERT INTO kept.t VALUES (7)',
    );
    const firstPid = sandbox.pid;
    await sandbox.stop();
    expect(isProcessAlive(firstPid)).toBe(false);
    expect(sandbox.isRunning()).toBe(false);
    await sandbox.start();
    expect(sandbox.pid).not.toBe(firstPid);
    expect(await sql(sandbox, 'SELECT id FROM kept.t')).toEqual([{ id: 7 }]);
  });
});

describe('sandbox bad input', () => {
  it('refuses a port already taken with PORT_IN_USE and leaves nothing behind', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done));
    const port = (blocker.address() as { port: number }).port;
    try {
      const name = `taken-${process.pid}`;
      const error = await caught(createSandbox({ baseDir: TEST_SANDBOX_BASE, name, port }));
      expect(error.code).toBe('PORT_IN_USE');
      expect(error.exit).toBe(3);
      expect(existsSync(join(TEST_SANDBOX_BASE, name))).toBe(false);
      expect(await registryNames()).not.toContain(name);
    } finally {
      blocker.close();
    }
  });

  it('refuses a directory that exists and is not a sandbox with DATADIR_EXISTS, and keeps it', async () => {
    const dir = join(TEST_SANDBOX_BASE, `foreign-${process.pid}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'precious'), 'data');
    try {
      const error = await caught(createSandbox({ baseDir: TEST_SANDBOX_BASE, dir }));
      expect(error.code).toBe('DATADIR_EXISTS');
      expect(error.exit).toBe(2);
      expect(await readFile(join(dir, 'precious'), 'utf8')).toBe('data');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a second sandbox of the same name with SANDBOX_EXISTS', async () => {
    const first = await startSandbox({ name: `twice-${process.pid}` });
    const error = await caught(createSandbox({ baseDir: TEST_SANDBOX_BASE, name: first.name }));
    expect(error.code).toBe('SANDBOX_EXISTS');
    expect(first.isRunning()).toBe(true);
    expect(existsSync(first.datadir)).toBe(true);
  });

  it('reports SERVER_BINARY_MISSING with the install command when no server is found', async () => {
    const empty = join(TEST_SANDBOX_BASE, `empty-path-${process.pid}`);
    await mkdir(empty, { recursive: true });
    try {
      const name = `nobinary-${process.pid}`;
      const error = await caught(
        createSandbox({ baseDir: TEST_SANDBOX_BASE, name, binaries: { searchPath: empty } }),
      );
      expect(error.code).toBe('SERVER_BINARY_MISSING');
      expect(error.exit).toBe(3);
      expect(error.hint).toContain('apt-get install mariadb-server');
      expect(existsSync(join(TEST_SANDBOX_BASE, name))).toBe(false);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('shows the server log and removes everything when the server cannot start', async () => {
    const name = `badopt-${process.pid}`;
    const error = await caught(
      createSandbox({ baseDir: TEST_SANDBOX_BASE, name, serverOptions: { innodb_page_size: '3k' } }),
    );
    expect(error.code).toBe('SERVER_START_FAILED');
    expect(error.message).toMatch(/innodb|page/i);
    expect(existsSync(join(TEST_SANDBOX_BASE, name))).toBe(false);
    expect(await registryNames()).not.toContain(name);
  });
});
