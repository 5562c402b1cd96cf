import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isSalvageError } from '../../src/errors.js';
import { detect, readBaseline, takeSnapshot, writeBaseline } from '../../src/verify/index.js';
import { type Sandbox, sql, startSandbox } from '../support/sandbox.js';
import { loadShop, targetOf } from './fixtures.js';

let server: Sandbox;
let dir: string;

beforeAll(async () => {
  server = await startSandbox({ binlog: false });
  await loadShop(server);
  dir = await mkdtemp(join(tmpdir(), 'salvage-detect-'));
});

describe('snapshot and detect', () => {
  it('writes a baseline that reads back, and finds nothing when nothing changed', async () => {
    const baseline = await takeSnapshot({ source: targetOf(server), chunkRows: 1000 });
    const file = join(dir, 'baseline.json');
    await writeBaseline(file, baseline);
    const back = await readBaseline(file);
    expect(back).toEqual(baseline);
    const customers = back.tables.find((t) => t.table === 'shop.customers')!;
    expect(customers.rows).toBe(6000);
    expect(customers.chunking.chunks!.length).toBeGreaterThan(3);
    const email = customers.profile.columns.find((c) => c.name === 'email')!;
    expect(email.nulls).toBe(857); // every 7th of 6000
    expect(customers.profile.columns.find((c) => c.name === 'status')!.distinct).toBe(3);
    expect(back.notes.join()).toMatch(/shop\.audit/);

    const report = await detect({ source: targetOf(server), baseline: back });
    expect(report.findings).toEqual([]);
    expect(report.clean).toBe(true);
    expect(report.foreign_keys_checked).toBe(1);
  });

  it('catches an orphan inserted with FOREIGN_KEY_CHECKS=0 and a NULL-rate jump, ranked', async () => {
    const baseline = await readBaseline(join(dir, 'baseline.json'));
    await sql(
      server,
      `SET FOREIGN_KEY_CHECKS=0;
       INSERT INTO shop.orders VALUES ('ORD-ORPHAN', 777777, 5);
       UPDATE shop.customers SET email = NULL WHERE id <= 2000;
       UPDATE shop.customers SET status = 'closed'`,
    );
    const report = await detect({ source: targetOf(server), baseline });
    expect(report.clean).toBe(false);
    const kinds = report.findings.map(
      (f) => `${f.severity} ${f.kind} ${f.table}${f.column ? `.${f.column}` : ''}`,
    );
    expect(kinds).toEqual(
      expect.arrayContaining([
        'high foreign_key_orphans shop.orders',
        'high null_rate shop.customers.email',
        'medium distinct_count shop.customers.status',
        'medium checksum_changed shop.customers',
      ]),
    );
    // Worst first.
    const ranks = report.findings.map((f) => ['critical', 'high', 'medium', 'low'].indexOf(f.severity));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    const orphan = report.findings.find((f) => f.kind === 'foreign_key_orphans')!;
    expect(orphan.details).toMatchObject({ orphans: 1, samples: [[777777]] });
    // Without a baseline only the integrity checks run: the orphan, nothing else.
    const plain = await detect({ source: targetOf(server) });
    expect(plain.findings.map((f) => f.kind)).toEqual(['foreign_key_orphans']);
  });

  it('refuses a baseline that is not one, saying what is wrong', async () => {
    const file = join(dir, 'bad.json');
    const good = JSON.parse(await readFile(join(dir, 'baseline.json'), 'utf8'));
    good.tables[0].rows = -1;
    await writeFile(file, JSON.stringify(good));
    const error = await readBaseline(file).catch((e: unknown) => e);
    expect(isSalvageError(error) && error.code).toBe('BAD_INPUT');
    expect((error as Error).message).toMatch(/tables\.0\.rows/);
    await writeFile(file, '{not json');
    expect(((await readBaseline(file).catch((e: unknown) => e)) as Error).message).toMatch(/not JSON/);
  });
});
