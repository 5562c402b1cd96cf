/**
 * The change source starts at the first bad transaction: what comes before it
 * in the binlog files is never decoded. Proved with a damaged event before it
 * (a broken CRC32), which fails a read from the beginning but not one that
 * starts at the bad transaction, in the same file and in an earlier file.
 */
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBinlog, resolveBinlogFiles } from '../../src/binlog/index.js';
import { type ChangeEvent, openChangeSource } from '../../src/impact/index.js';
import { type Sandbox, sql, startSandbox } from '../support/sandbox.js';

let server: Sandbox;
let work: string;
/** A transaction in the first file, one in the second before the bad one, the bad one, a later one. */
const gtid: Record<'early' | 'filler' | 'bad' | 'later', string> = {
  early: '',
  filler: '',
  bad: '',
  later: '',
};

async function gtidNow(): Promise<string> {
  const [row] = await sql<{ g: string }>(server, 'SELECT @@gtid_binlog_pos AS g');
  return String(row?.g);
}

beforeAll(async () => {
  server = await startSandbox();
  await sql(server, 'CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, a VARCHAR(20))');
  await sql(server, "INSERT INTO app.t VALUES (1, 'one'), (2, 'two'), (3, 'three')");
  gtid.early = await gtidNow();
  await sql(server, 'FLUSH BINARY LOGS');
  await sql(server, "UPDATE app.t SET a = 'filler' WHERE id = 3");
  gtid.filler = await gtidNow();
  await sql(server, "UPDATE app.t SET a = 'bad' WHERE id IN (1, 2)");
  gtid.bad = await gtidNow();
  await sql(server, "UPDATE app.t SET a = 'later' WHERE id = 2");
  gtid.later = await gtidNow();
  await sql(server, 'FLUSH BINARY LOGS');
  work = await mkdtemp(join(tmpdir(), 'salvage-undo-source-'));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** The server's closed binlog files copied, with one byte of the rows event of `damaged` flipped. */
async function damagedCopy(damaged: string): Promise<string[]> {
  const files = (await resolveBinlogFiles({ dir: join(server.dir, 'binlog') })).slice(0, -1);
  const dir = await mkdtemp(join(work, 'copy-'));
  const copies: string[] = [];
  for (const file of files) {
    const copy = join(dir, basename(file));
    await copyFile(file, copy);
    copies.push(copy);
  }
  let target: { file: string; position: number; length: number } | undefined;
  let current = '';
  for await (const event of readBinlog({ files: copies })) {
    if (event.kind === 'mariadb-gtid') current = event.gtid;
    if (event.kind === 'rows' && current === damaged) {
      target = { file: event.header.file, position: event.header.position, length: event.header.length };
      break;
    }
  }
  expect(target, `a rows event of ${damaged}`).toBeDefined();
  const path = join(dir, (target as { file: string }).file);
  const bytes = await readFile(path);
  const at = (target?.position ?? 0) + Math.floor((target?.length ?? 0) / 2);
  bytes[at] = (bytes[at] as number) ^ 0xff;
  await writeFile(path, bytes);
  return copies;
}

async function drain(source: AsyncIterable<ChangeEvent>): Promise<ChangeEvent[]> {
  const events: ChangeEvent[] = [];
  for await (const event of source) events.push(event);
  return events;
}

describe('the change source with startAt', () => {
  for (const damaged of ['early', 'filler'] as const) {
    it(`never decodes the ${damaged === 'early' ? 'earlier file' : 'same file before the bad transaction'}`, async () => {
      const files = await damagedCopy(gtid[damaged]);
      await expect(drain(openChangeSource({ files }))).rejects.toMatchObject({ code: expect.any(String) });
      const events = await drain(openChangeSource({ files }, { startAt: [gtid.bad] }));
      const rows = events.filter((e) => e.kind === 'row');
      expect(rows.map((e) => e.gtid)).toEqual([gtid.bad, gtid.bad, gtid.later]);
      expect(
        rows.map((e) => (e.kind === 'row' ? Buffer.from(e.change.after?.[1] as Uint8Array).toString() : '')),
      ).toEqual(['bad', 'bad', 'later']);
    });
  }

  it('is empty when no wanted transaction is in the files', async () => {
    const files = (await resolveBinlogFiles({ dir: join(server.dir, 'binlog') })).slice(0, -1);
    expect(await drain(openChangeSource({ files }, { startAt: ['0-1-999999'] }))).toEqual([]);
  });
});
