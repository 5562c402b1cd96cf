/**
 * `salvage binlog timeline|rows`: the argv → call mapping, the JSON shapes of
 * issue 4 item 5, and the exit codes for bad input. Runs main() in this
 * process and collects what it writes to stdout and stderr.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runSalvageInProcess } from '../support/cli.js';
import { MYSQL8_FIXTURES } from '../support/paths.js';

const FIXTURES = MYSQL8_FIXTURES;
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'salvage-cli-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(...argv: string[]): ReturnType<typeof runSalvageInProcess> {
  return runSalvageInProcess(argv);
}

const lines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l));

describe('salvage binlog timeline', () => {
  test('--json: one transaction per line with gtid, file, start, end, ts, statement, rows', async () => {
    const files = ['000001', '000002'].map((n) => join(FIXTURES, `pbs-gtid-binlog.${n}`));
    const { code, stdout } = await run('binlog', 'timeline', ...files, '--json');
    expect(code).toBe(0);
    const txs = lines(stdout);
    expect(txs.length).toBe(6);
    expect(txs[0]).toMatchObject({
      gtid: '396e294c-1ca4-11f1-9ae7-00155da79c6b:1',
      file: 'pbs-gtid-binlog.000001',
      start: 157,
      end: 365,
      statement: 'CREATE TABLE t1(id SERIAL, PRIMARY KEY(id))',
      rows: {},
    });
    expect(txs[4]).toMatchObject({ rows: { 'test.t1': { insert: 0, update: 3, delete: 0 } } });
    for (const tx of txs) expect(typeof tx.ts).toBe('number');
  });

  test('filters: --table, --grep, --gtid, --since/--until with --tz', async () => {
    const file = join(FIXTURES, 'pbs-gtid-binlog.000001');
    const byTable = lines((await run('binlog', 'timeline', file, '--table', 'test.t1', '--json')).stdout);
    expect(byTable.map((t) => t.gtid.split(':')[1])).toEqual(['2', '3', '4']);
    const byGrep = lines(
      (await run('binlog', 'timeline', file, '--grep', 'create\\s+table', '--json')).stdout,
    );
    expect(byGrep.map((t) => t.gtid.split(':')[1])).toEqual(['1']);
    const gtid = '396e294c-1ca4-11f1-9ae7-00155da79c6b:3';
    expect(
      lines((await run('binlog', 'timeline', file, '--gtid', gtid, '--json')).stdout).map((t) => t.gtid),
    ).toEqual([gtid]);
    // Commits at 17:11:54.338/.363/.483/.492 UTC = 18:11:54 in Paris (CET).
    const window = await run(
      'binlog',
      'timeline',
      file,
      '--json',
      '--tz',
      'Europe/Paris',
      '--since',
      '2026-03-10 18:11:54.35',
      '--until',
      '2026-03-10 18:11:54.49',
    );
    expect(lines(window.stdout).map((t) => t.gtid.split(':')[1])).toEqual(['2', '3']);
  });

  test('human output names the zone it prints times in', async () => {
    const { code, stdout, stderr } = await run(
      'binlog',
      'timeline',
      join(FIXTURES, 'pso-binlog.000003'),
      '--tz',
      'UTC',
    );
    expect(code).toBe(0);
    expect(stdout).toContain('2026-08-19');
    expect(stdout).toContain('t.a +3 ~0 -0');
    expect(stderr).toBe('');
    const defaulted = await run('binlog', 'timeline', join(FIXTURES, 'pso-binlog.000003'));
    expect(defaulted.stderr).toMatch(/times are in .+ \(the system zone/);
  });
});

describe('salvage binlog rows', () => {
  test('--json: gtid, pos, db, table, op, before, after keyed by column name', async () => {
    const { code, stdout } = await run(
      'binlog',
      'rows',
      join(FIXTURES, 'mysql-enum-string-set.000001'),
      '--json',
    );
    expect(code).toBe(0);
    const rows = lines(stdout);
    expect(rows.map((r) => r.op)).toEqual(['insert', 'update', 'delete']);
    expect(rows[0]).toMatchObject({
      gtid: '93e95066-a2f4-11ec-9b69-9657f0ae95e2:3',
      db: 'mysql',
      table: 't',
      before: null,
    });
    expect(typeof rows[0].pos).toBe('number');
    expect(rows[1].after).toMatchObject({ f1: 'field1', f2: 'field_2', f3: 'variant2', f4: 'two,four' });
    expect(rows[2].after).toBeNull();
  });

  test('value encodings: big unsigned as string, bytes as hex, absent columns left out, @N names', async () => {
    const big = lines(
      (await run('binlog', 'rows', join(FIXTURES, 'binlog-invisible-columns.000001'), '--json')).stdout,
    );
    expect(big[0].after).toMatchObject({ f1: 1, f3: -3, f5: { hex: '05' }, f6: 6000000000 });
    const minimal = lines(
      (await run('binlog', 'rows', join(FIXTURES, 'minimal_row_metadata.000001'), '--json')).stdout,
    );
    expect(minimal[0].after).toEqual({ '@1': 1, '@3': 'a', '@5': 3230202323 });
  });

  test('--gtid selects transactions', async () => {
    const gtid = '396e294c-1ca4-11f1-9ae7-00155da79c6b:6';
    const rows = lines(
      (await run('binlog', 'rows', join(FIXTURES, 'pbs-gtid-binlog.000002'), '--gtid', gtid, '--json'))
        .stdout,
    );
    expect(rows.map((r) => [r.gtid, r.op, r.before['@1']])).toEqual([
      [gtid, 'delete', 4],
      [gtid, 'delete', 5],
      [gtid, 'delete', 6],
    ]);
  });
});

describe('exit codes for bad input', () => {
  test('not a binlog: 2, NOT_A_BINLOG as JSON on stdout with --json', async () => {
    const path = join(tmp, 'x.000001');
    writeFileSync(path, 'not a binlog');
    const { code, stdout } = await run('binlog', 'timeline', path, '--json');
    expect(code).toBe(2);
    expect(JSON.parse(stdout)).toMatchObject({ error: { code: 'NOT_A_BINLOG' } });
  });

  test('no source, two sources, a missing file: 2', async () => {
    expect((await run('binlog', 'timeline')).code).toBe(2);
    expect((await run('binlog', 'rows', join(FIXTURES, 'pso-binlog.000001'), '--dir', tmp)).code).toBe(2);
    const missing = await run('binlog', 'timeline', join(tmp, 'nope.000001'));
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringContaining('FILE_NOT_FOUND')]);
  });

  test('CRC mismatch: 2 with file and position; --no-verify reads it', async () => {
    const bytes = Buffer.from(readFileSync(join(FIXTURES, 'pbs-gtid-binlog.000001')));
    bytes[bytes.indexOf('CREATE TABLE')] = 'c'.charCodeAt(0);
    const path = join(tmp, 'crc.000001');
    writeFileSync(path, bytes);
    const failed = await run('binlog', 'timeline', path, '--json');
    expect(failed.code).toBe(2);
    expect(JSON.parse(failed.stdout)).toMatchObject({
      error: { code: 'BINLOG_CHECKSUM', file: 'crc.000001' },
    });
    const read = await run('binlog', 'timeline', path, '--json', '--no-verify');
    expect(read.code).toBe(0);
    expect(lines(read.stdout)[0].statement).toBe('cREATE TABLE t1(id SERIAL, PRIMARY KEY(id))');
  });

  test('a truncated last event: 0, with a warning on stderr', async () => {
    const { code, stderr } = await run(
      'binlog',
      'timeline',
      join(FIXTURES, 'binlog_truncated_prev_gtid_event.000001'),
      '--json',
    );
    expect(code).toBe(0);
    expect(stderr).toContain('ends inside the event at 120');
  });

  test('an ambiguous --since: 2 AMBIGUOUS_TIME; a bad --grep: 2', async () => {
    const file = join(FIXTURES, 'pso-binlog.000003');
    const ambiguous = await run(
      'binlog',
      'timeline',
      file,
      '--tz',
      'America/New_York',
      '--since',
      '2024-11-03 01:30',
    );
    expect([ambiguous.code, ambiguous.stderr]).toEqual([2, expect.stringContaining('AMBIGUOUS_TIME')]);
    expect((await run('binlog', 'timeline', file, '--grep', '(')).code).toBe(2);
  });
});
