/**
 * The repository without a server: whole-object writes, the lock, the
 * manifest as commit point, and the parsing of the tool's binlog position.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  assertFreeSpace,
  beginBackup,
  listBackups,
  openRepository,
  openStorage,
  parseBinlogPos,
  readManifest,
  withRepositoryLock,
} from '../../src/backup/index.js';
import { SalvageError } from '../../src/errors.js';

let dir: string;
let url: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'salvage-repo-test-'));
  url = pathToFileURL(dir).href;
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function failure(promise: Promise<unknown>): Promise<SalvageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SalvageError);
  return error as SalvageError;
}

test('a put whose source fails leaves neither the object nor a temporary file', async () => {
  const storage = openStorage(url);
  const broken = new Readable({
    read() {
      this.push(Buffer.alloc(1000, 1));
      this.destroy(new Error('source died'));
    },
  });
  await expect(storage.put('objects/a.bin', broken)).rejects.toThrow(/source died/);
  expect(await storage.stat('objects/a.bin')).toBeUndefined();
  expect(await readdir(join(dir, 'objects'))).toEqual([]);
  expect(await storage.put('objects/a.bin', Readable.from([Buffer.from('ok')]))).toBe(2);
  expect((await storage.list('objects/')).map((o) => o.key)).toEqual(['objects/a.bin']);
});

test('keys cannot climb out of the repository', async () => {
  const storage = openStorage(url);
  await expect(storage.get('../etc/passwd')).rejects.toThrow(/Invalid repository key/);
});

test('a URL without a repository is REPOSITORY_NOT_FOUND; s3:// is not supported yet', async () => {
  expect((await failure(openRepository(pathToFileURL(join(dir, 'none')).href))).code).toBe(
    'REPOSITORY_NOT_FOUND',
  );
  expect(() => openStorage('s3://bucket/path')).toThrow(/not supported yet/);
});

test('the lock keeps a second writer out and is released after', async () => {
  const repo = await openRepository(url, { create: true });
  const inner = await withRepositoryLock(repo, 'backup', async () => {
    const error = await failure(withRepositoryLock(repo, 'backup', async () => 'never'));
    expect(error.code).toBe('REPOSITORY_LOCKED');
    expect(error.message).toContain(`process ${process.pid} on ${hostname()}`);
    // Another lock name is independent (one per binlog archiver).
    return withRepositoryLock(repo, 'binlogs-x', async () => 'both held');
  });
  expect(inner).toBe('both held');
  expect(await withRepositoryLock(repo, 'backup', async () => 'again')).toBe('again');
});

test('a lock left by a dead process on this host is taken over', async () => {
  const repo = await openRepository(url, { create: true });
  const dead = spawnSync('true').pid as number;
  await writeFile(
    join(dir, 'locks', 'backup.lock'),
    JSON.stringify({ pid: dead, host: hostname(), startedAt: '2024-01-01T00:00:00Z' }),
  );
  expect(await withRepositoryLock(repo, 'backup', async () => 'taken over')).toBe('taken over');
});

test('a backup is listed only once its manifest is written; until then it is running', async () => {
  const repo = await openRepository(url, { create: true });
  const writer = await beginBackup(repo, '20250101T000000000Z-abcd');
  const file = await writer.writeFile('data/x.sql', Readable.from([Buffer.from('INSERT 1;\n')]));
  expect(file).toMatchObject({ path: 'data/x.sql.gz', rawSize: 10 });
  let listing = await listBackups(repo);
  expect(listing.backups).toEqual([]);
  expect(listing.incomplete).toEqual([
    expect.objectContaining({ id: writer.id, state: 'running', pid: process.pid }),
  ]);
  expect((await failure(readManifest(repo, writer.id))).message).toMatch(/incomplete/);
  await writer.commit({
    method: 'logical',
    tool: { name: 'test', version: '1' },
    salvageVersion: '0',
    server: { flavor: 'mariadb', version: '10.11', serverId: 1, hostname: 'h', port: 3306, datadir: '/d' },
    startedAt: '2025-01-01T00:00:00Z',
    finishedAt: '2025-01-01T00:00:01Z',
    consistentPoint: { binlog: { file: 'b.000001', position: 4 }, gtid: '0-1-1' },
    warnings: [],
  });
  listing = await listBackups(repo);
  expect(listing.incomplete).toEqual([]);
  expect(listing.backups.map((b) => [b.id, b.totalRawSize, b.files.length])).toEqual([[writer.id, 10, 1]]);
});

test('the binlog position line of xtrabackup_info, with and without a GTID', () => {
  expect(
    parseBinlogPos(
      "tool_name = mariabackup\nbinlog_pos = filename 'binlog.000001', position '1030', GTID of the last change '0-1-3,1-2-9'\n",
    ),
  ).toEqual({ binlog: { file: 'binlog.000001', position: 1030 }, gtid: '0-1-3,1-2-9' });
  expect(parseBinlogPos("binlog_pos = filename 'mysql-bin.000002', position '157'\n")).toEqual({
    binlog: { file: 'mysql-bin.000002', position: 157 },
    gtid: null,
  });
  expect(parseBinlogPos('tool_name = mariabackup\n')).toEqual({ binlog: null, gtid: null });
});

test('a restore that needs more room than the disk has is refused before it starts', async () => {
  const error = await failure(assertFreeSpace(dir, 2 ** 60));
  expect(error.code).toBe('NO_SPACE');
  expect(error.message).toContain(dir);
  await assertFreeSpace(dir, 1024);
});
