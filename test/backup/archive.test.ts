import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  archiveBinlogs,
  findPartialFile,
  openRepository,
  readArchiveIndex,
  sandboxTarget,
} from '../../src/backup/index.js';
import { type Sandbox, sql, startSandbox } from '../support/sandbox.js';

let server: Sandbox;
let repoDir: string;
let repoUrl: string;

async function serverFile(name: string): Promise<Buffer> {
  return readFile(join(server.dir, 'binlog', name));
}

/**
 * FLUSH BINARY LOGS, then wait for the new file's own Binlog_checkpoint: the
 * server writes it a moment later (once the older file's transactions are
 * durable), and an archive run in between would find one event more.
 */
async function flushBinaryLogs(): Promise<void> {
  await sql(server, 'FLUSH BINARY LOGS');
  const [status] = await sql<{ File: string }>(server, 'SHOW MASTER STATUS');
  const file = String(status?.File);
  for (let tries = 0; tries < 200; tries++) {
    const events = await sql<{ Event_type: string; Info: string }>(server, `SHOW BINLOG EVENTS IN '${file}'`);
    if (events.some((e) => e.Event_type === 'Binlog_checkpoint' && e.Info === file)) return;
    await new Promise((resume) => setTimeout(resume, 50));
  }
  throw new Error(`the server wrote no checkpoint of ${file} within 10 s`);
}

async function write(from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i++) {
    await sql(server, `INSERT INTO app.t VALUES (${i}, REPEAT('x', 200))`);
  }
}

beforeAll(async () => {
  server = await startSandbox();
  repoDir = await mkdtemp(join(tmpdir(), 'salvage-archive-'));
  repoUrl = `file://${repoDir}`;
  await sql(server, 'CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT)');
});

afterAll(async () => {
  await rm(repoDir, { recursive: true, force: true });
});

describe('binlog archive', () => {
  it('stores closed files byte-identical with their GTIDs and SHA-256, and the current file as whole transactions', async () => {
    await write(1, 20);
    await flushBinaryLogs();
    await write(21, 10);
    const result = await archiveBinlogs({ source: sandboxTarget(server), repo: repoUrl });
    expect(result.resumedFrom).toBeUndefined();
    expect(result.completed.map((f) => f.file)).toEqual(['binlog.000001']);
    const first = result.completed[0];
    expect(first?.size).toBe((await serverFile('binlog.000001')).length);
    const archived = await readFile(join(repoDir, result.prefix, 'binlog.000001'));
    expect(archived.equals(await serverFile('binlog.000001'))).toBe(true);
    expect(first?.firstGtid).toMatch(/^0-\d+-1$/);
    expect(first?.transactions).toBe(22);
    expect(result.partial?.file).toBe('binlog.000002');
    const live = await serverFile('binlog.000002');
    expect(result.partial?.end).toBe(live.length);
  });

  it('resumes after an interruption without storing any event twice', async () => {
    await write(31, 30);
    const controller = new AbortController();
    // Stop right after the first stored run, with later transactions received but not stored: as a kill would.
    const interrupted = await archiveBinlogs({
      source: sandboxTarget(server),
      repo: repoUrl,
      runBytes: 2000,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.kind === 'stored') controller.abort();
      },
    });
    expect(interrupted.resumedFrom?.file).toBe('binlog.000002');
    const repo = await openRepository(repoUrl);
    const partial = await findPartialFile(repo, interrupted.prefix);
    expect(partial?.end).toBeLessThan((await serverFile('binlog.000002')).length);

    await flushBinaryLogs();
    const resumed = await archiveBinlogs({ source: sandboxTarget(server), repo: repoUrl });
    expect(resumed.resumedFrom).toEqual({ file: 'binlog.000002', position: partial?.end });
    expect(resumed.completed.map((f) => f.file)).toEqual(['binlog.000002']);
    const archived = await readFile(join(repoDir, resumed.prefix, 'binlog.000002'));
    expect(archived.equals(await serverFile('binlog.000002'))).toBe(true);

    const index = await readArchiveIndex(repo, resumed.prefix);
    expect(index?.files.map((f) => f.file)).toEqual(['binlog.000001', 'binlog.000002']);
    expect(index?.files[1]?.transactions).toBe(40);
    expect(index?.files[1]?.gtidsBefore).toBe(index?.files[0]?.lastGtid);
    // No leftover runs of completed files.
    expect((await readdir(join(repoDir, resumed.prefix))).filter((n) => n.endsWith('.partial'))).toEqual([
      'binlog.000003.partial',
    ]);
    const live = await serverFile('binlog.000003');
    const again = await archiveBinlogs({ source: sandboxTarget(server), repo: repoUrl });
    expect(again.events).toBe(0);
    expect(again.partial?.end).toBe(live.length);
  });
});
