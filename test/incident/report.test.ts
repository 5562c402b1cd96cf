/**
 * salvage report on an incident journal: Markdown on stdout, and an HTML file
 * that headless Chromium renders with its timeline drawn — one bar per data
 * point with a non-zero size where rows were written, and the markers of the
 * bad change, the cut point and the freeze.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJournal } from '../../src/incident/index.js';
import { salvage } from './support.js';

const run = promisify(execFile);
let work: string;
let dir: string;
const T0 = 1_716_000_000;
// Rows written per 2-second bucket; the bad change at T0 + 10 s, a quiet bucket in the middle.
const BUCKETS = [5, 8, 0, 12, 300, 7, 9, 4];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'salvage-report-'));
  dir = join(work, 'incident');
  await mkdir(dir);
  const journal = await createJournal(join(dir, 'journal.ndjson'));
  const bad = '0-1-42';
  await journal.append({
    step: 'open',
    status: 'done',
    inputs: { source: 'mysql://root@db1:3306', gtids: [bad], strategy: 'surgical' },
  });
  await journal.append({ step: 'freeze', status: 'started' });
  await journal.append({
    step: 'freeze',
    status: 'done',
    outputs: { frozen_at: new Date((T0 + 17) * 1000).toISOString() },
  });
  await journal.append({
    step: 'impact',
    status: 'done',
    outputs: {
      gtids: [bad],
      rows: 300,
      tables: [{ table: 'shop.customers', inserted: 0, updated: 300, deleted: 0, columns: [] }],
      later_writes: 2,
      later_write_sample: [{ gtid: bad, table: 'shop.customers', key: { id: 7 }, later: ['0-1-50'] }],
      later_transactions: 20,
      schema_changes: [],
      orphans: [],
      activity: {
        bucket_s: 2,
        buckets: BUCKETS.map((rows, i) => ({ t: T0 + 2 * i, rows, transactions: rows === 0 ? 0 : 2 })),
        bad: [{ gtid: bad, ts: T0 + 8.5, rows: 300, tables: ['shop.customers'] }],
        before: {
          transactions: 8,
          rows: 25,
          seconds: 7,
          first_ts: T0,
          last_ts: T0 + 7,
          tables: ['shop.orders'],
        },
        after: {
          transactions: 20,
          rows: 20,
          seconds: 6,
          first_ts: T0 + 9,
          last_ts: T0 + 15,
          tables: ['shop.orders'],
        },
      },
    },
  });
  const lost = { transactions: 0, rows: 0, seconds: 0 };
  await journal.append({
    step: 'plan',
    status: 'done',
    outputs: {
      recommended: 'surgical',
      why: 'it keeps all 20 later transactions',
      chosen: 'surgical',
      options: [
        {
          strategy: 'pitr',
          feasible: true,
          blocked_by: null,
          lost: { transactions: 20, rows: 20, seconds: 6 },
          kept: { transactions: 0, rows: 0 },
          rows_to_review: 0,
          result: 'new server',
          summary: 'stop before',
        },
        {
          strategy: 'surgical',
          feasible: true,
          blocked_by: null,
          lost,
          kept: { transactions: 20, rows: 20 },
          rows_to_review: 2,
          result: 'new server',
          summary: 'skip it',
        },
        {
          strategy: 'undo',
          feasible: true,
          blocked_by: null,
          lost,
          kept: { transactions: 20, rows: 20 },
          rows_to_review: 2,
          result: 'source, in place',
          summary: 'reverse it',
        },
      ],
    },
  });
  await journal.append({
    step: 'restore',
    status: 'done',
    outputs: {
      dsn: 'mysql://root@127.0.0.1:41000',
      conflicts: [{ skipped: bad, table: 'shop.customers', key: { id: 7 }, later: ['0-1-50'] }],
    },
  });
  await journal.append({
    step: 'verify',
    status: 'done',
    outputs: {
      equal: true,
      compared: ['shop.orders', 'shop.order_items'],
      differing: [],
      not_compared: [{ table: 'shop.customers', why: 'the bad change wrote it' }],
      orphans: 0,
      check_errors: [],
      assertions: [],
      verified_at: new Date((T0 + 40) * 1000).toISOString(),
    },
  });
});

afterAll(() => rm(work, { recursive: true, force: true }));

describe('salvage report', () => {
  it('prints Markdown with the outcome, the plan, the conflicts and the verification', async () => {
    const result = await salvage(['report', '--incident', dir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('# Incident incident');
    expect(result.stdout).toContain('Status: **recovered**');
    expect(result.stdout).toContain('Recovered data on: mysql://root@127.0.0.1:41000');
    expect(result.stdout).toMatch(/RTO \(freeze → verified, measured\): \d+\.\d s/);
    expect(result.stdout).toContain('| pitr | 20 | 20 | 6 | 0 | 0 | new server | stop before |');
    expect(result.stdout).toContain('shop.customers: {"id":7} changed again by 0-1-50');
    expect(result.stdout).toContain('Not compared: shop.customers (the bad change wrote it)');
  });

  it('writes a self-contained HTML file whose timeline Chromium draws', async () => {
    const html = join(work, 'report.html');
    const result = await salvage(['report', '--incident', dir, '--html', html, '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).html).toBe(html);
    const page = await readFile(html, 'utf8');
    // Self-contained: no script, no stylesheet link, nothing fetched.
    expect(page).not.toMatch(/<script|<link|<img|\ssrc=|url\(/i);

    // Measured in the browser by a script added to a copy (the report itself has none).
    const probe = join(work, 'probe.html');
    await writeFile(
      probe,
      page.replace(
        '</body>',
        `<script>
const svg = document.querySelector('svg.timeline');
const box = svg.getBoundingClientRect();
const bars = [...document.querySelectorAll('svg.timeline rect.bar')];
document.body.setAttribute('data-measure', JSON.stringify({
  width: box.width, height: box.height, bars: bars.length,
  drawn: bars.filter((b) => { const r = b.getBBox(); return r.width > 0 && r.height > 0; }).length,
  markers: [...document.querySelectorAll('svg.timeline g.marker')].map((g) => g.getAttribute('class')),
}));
</script></body>`,
      ),
    );
    const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
    if (chromium === undefined)
      throw new Error('chromium is not installed: run scripts/bootstrap.sh (apt-get install chromium)');
    const profile = await mkdtemp(join(tmpdir(), 'salvage-chromium-'));
    try {
      const { stdout } = await run(
        chromium,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          `--user-data-dir=${profile}`,
          '--dump-dom',
          pathToFileURL(probe).href,
        ],
        { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      );
      const attribute = /data-measure="([^"]*)"/.exec(stdout)?.[1];
      expect(attribute).toBeDefined();
      const measure = JSON.parse(attribute!.replaceAll('&quot;', '"'));
      expect(measure.width).toBeGreaterThan(100);
      expect(measure.height).toBeGreaterThan(50);
      expect(measure.bars).toBe(BUCKETS.length);
      expect(measure.drawn).toBe(BUCKETS.filter((rows) => rows > 0).length);
      expect(measure.markers).toEqual(['marker cut', 'marker bad', 'marker freeze']);
    } finally {
      await rm(profile, { recursive: true, force: true });
    }
  });
});
