import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson, createJournal, openJournal, readJournal } from '../../src/incident/journal.js';

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'salvage-journal-'));
  path = join(dir, 'journal.ndjson');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function threeEntries(): Promise<void> {
  const journal = await createJournal(path);
  await journal.append({
    step: 'freeze',
    status: 'started',
    inputs: { source: 'mysql://root@127.0.0.1:3306' },
  });
  await journal.append({ step: 'freeze', status: 'done', outputs: { frozen_at: 1, tables: ['a.b'] } });
  await journal.append({ step: 'impact', status: 'started' });
}

describe('journal', () => {
  it('chains entries and reads them back', async () => {
    await threeEntries();
    const { entries, torn } = await readJournal(path);
    expect(torn).toBeUndefined();
    expect(entries.map((e) => [e.seq, e.step, e.status])).toEqual([
      [1, 'freeze', 'started'],
      [2, 'freeze', 'done'],
      [3, 'impact', 'started'],
    ]);
    expect(entries[0]!.prev_hash).toBe('0'.repeat(64));
    expect(entries[1]!.prev_hash).toBe(entries[0]!.hash);
    expect(entries[1]!.ended_at).not.toBeNull();
    expect(entries[2]!.ended_at).toBeNull();
  });

  it('refuses a journal edited by hand', async () => {
    await threeEntries();
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.replace('"frozen_at":1', '"frozen_at":2'));
    await expect(readJournal(path)).rejects.toMatchObject({
      code: 'JOURNAL_BROKEN',
      message: expect.stringContaining('line 2'),
    });
  });

  it('refuses a journal with a line removed', async () => {
    await threeEntries();
    const lines = (await readFile(path, 'utf8')).split('\n');
    lines.splice(1, 1);
    await writeFile(path, lines.join('\n'));
    await expect(readJournal(path)).rejects.toMatchObject({ code: 'JOURNAL_BROKEN' });
  });

  it('refuses a rehashed entry that no longer chains', async () => {
    await threeEntries();
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    const first = JSON.parse(lines[0]!);
    first.inputs.source = 'mysql://root@evil:1';
    lines[0] = JSON.stringify(first);
    await writeFile(path, `${lines.join('\n')}\n`);
    await expect(readJournal(path)).rejects.toMatchObject({
      code: 'JOURNAL_BROKEN',
      message: expect.stringContaining('line 1'),
    });
  });

  it('ignores a torn last line, says so, and appends after it cleanly', async () => {
    await threeEntries();
    await appendFile(path, '{"seq":4,"step":"imp');
    const read = await readJournal(path);
    expect(read.entries).toHaveLength(3);
    expect(read.torn?.bytes).toBe(20);
    const notices: string[] = [];
    const journal = await openJournal(path, (n) => notices.push(n));
    expect(notices[0]).toMatch(/cut short/);
    await journal.append({ step: 'impact', status: 'done', outputs: { rows: 3 } });
    const again = await readJournal(path);
    expect(again.torn).toBeUndefined();
    expect(again.entries.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });

  it('reports a missing journal as an incident not found', async () => {
    await expect(readJournal(join(dir, 'nope.ndjson'))).rejects.toMatchObject({ code: 'INCIDENT_NOT_FOUND' });
  });

  it('creates a journal only once', async () => {
    await createJournal(path);
    await expect(createJournal(path)).rejects.toMatchObject({ code: 'EEXIST' });
  });

  it('hashes canonical JSON independent of key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}',
    );
  });
});
