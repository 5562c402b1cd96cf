/**
 * Damaged input gives typed errors that name the file and position, never
 * another exception and never a hang: not a binlog, a gap in the sequence,
 * CRC mismatches (and --no-verify), impossible lengths, unknown table ids,
 * and (fast-check) arbitrary truncation and bit flips of real binlogs.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readBinlog, readRowChanges, readTransactions } from '../../src/binlog/index.js';
import { isSalvageError } from '../../src/errors.js';
import { MYSQL8_FIXTURES } from '../support/paths.js';

const FIXTURES = MYSQL8_FIXTURES;
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'salvage-bad-input-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function write(name: string, bytes: Uint8Array): string {
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  return path;
}

async function drain(path: string, verify = true): Promise<number> {
  let n = 0;
  for await (const _ of readRowChanges(readBinlog({ files: [path] }, { verify }))) n++;
  for await (const _ of readTransactions(readBinlog({ files: [path] }, { verify }))) n++;
  return n;
}

describe('bad input', () => {
  test('a file that is not a binlog: NOT_A_BINLOG', async () => {
    const path = write('notes.000001', Buffer.from('hello, this is not a binlog\n'));
    await expect(drain(path)).rejects.toMatchObject({ code: 'NOT_A_BINLOG', exit: 2 });
    // The gzipped sakila log is not one either until unpacked.
    await expect(drain(join(FIXTURES, 'mysql-bin.sakila.gz'))).rejects.toMatchObject({
      code: 'NOT_A_BINLOG',
    });
    const empty = write('empty.000001', Buffer.alloc(0));
    await expect(drain(empty)).rejects.toMatchObject({ code: 'NOT_A_BINLOG' });
  });

  test('a missing file in the sequence: BINLOG_GAP naming it', async () => {
    const a = write('gap.000001', readFileSync(join(FIXTURES, 'pso-binlog.000001')));
    const c = write('gap.000003', readFileSync(join(FIXTURES, 'pso-binlog.000003')));
    await expect(drain2([a, c])).rejects.toMatchObject({
      code: 'BINLOG_GAP',
      context: { file: 'gap.000002' },
    });
    const dir = mkdtempSync(join(tmp, 'dir-'));
    writeFileSync(join(dir, 'mysql-bin.000001'), readFileSync(join(FIXTURES, 'pso-binlog.000001')));
    writeFileSync(join(dir, 'mysql-bin.index'), './mysql-bin.000001\n./mysql-bin.000002\n');
    await expect(drainDir(dir)).rejects.toMatchObject({ code: 'BINLOG_GAP' });
  });

  test('a CRC mismatch: BINLOG_CHECKSUM with file and position; verify=false reads on', async () => {
    const bytes = Buffer.from(readFileSync(join(FIXTURES, 'pbs-gtid-binlog.000001')));
    // Inside the statement text of the CREATE TABLE query (event at 235): still decodable, wrong CRC.
    const at = bytes.indexOf('CREATE TABLE');
    bytes[at] = 'c'.charCodeAt(0);
    const path = write('crc.000001', bytes);
    const error = await drain(path).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'BINLOG_CHECKSUM', context: { file: 'crc.000001' } });
    expect(isSalvageError(error) && typeof error.context.position).toBe('number');
    expect(await drain(path, false)).toBeGreaterThan(0);
  });

  test('an event longer than the file: BINLOG_CORRUPT', async () => {
    const bytes = Buffer.from(readFileSync(join(FIXTURES, 'pso-binlog.000002')));
    // The second event (PREVIOUS_GTIDS) claims 100000 bytes; its log_pos no longer agrees.
    const second = 4 + bytes.readUInt32LE(4 + 9);
    bytes.writeUInt32LE(100000, second + 9);
    const path = write('long.000002', bytes);
    await expect(drain(path)).rejects.toMatchObject({
      code: 'BINLOG_CORRUPT',
      context: { position: second },
    });
  });

  test('a rows event whose table id no TABLE_MAP defined: BINLOG_UNKNOWN_TABLE', async () => {
    const bytes = Buffer.from(readFileSync(join(FIXTURES, 'pso-binlog.000003')));
    // Overwrite the TABLE_MAP's type byte with IGNORABLE (28) so the WRITE_ROWS that follows is orphaned.
    let pos = 4;
    while (pos < bytes.length && bytes[pos + 4] !== 19) pos += bytes.readUInt32LE(pos + 9);
    bytes[pos + 4] = 28;
    const path = write('orphan.000003', bytes);
    await expect(drain(path, false)).rejects.toMatchObject({ code: 'BINLOG_UNKNOWN_TABLE' });
  });

  test('a truncated last event is not an error: reading stops at the last whole event', async () => {
    const bytes = readFileSync(join(FIXTURES, 'pso-binlog.000003'));
    const path = write('cut.000003', bytes.subarray(0, bytes.length - 7));
    const notices: unknown[] = [];
    let events = 0;
    for await (const _ of readBinlog({ files: [path] }, { onNotice: (n) => notices.push(n) })) events++;
    expect(events).toBe(7);
    expect(notices).toEqual([{ kind: 'truncated', file: 'cut.000003', position: 473, missingBytes: 7 }]);
  });
});

async function drain2(files: string[]): Promise<void> {
  for await (const _ of readBinlog({ files }));
}
async function drainDir(dir: string): Promise<void> {
  for await (const _ of readBinlog({ dir }));
}

describe('fuzz: truncated and bit-flipped binlogs', () => {
  const sources = [
    'json.binlog.000001',
    'mysql-bin.000057',
    'mysql-enum-string-set.000001',
    'binlog_transaction_with_GTID_TAG.000001',
    'tcb-eval002c-bin.003320',
    'mysql-bin.checksum-none',
    'bxc-17_18_load-log.bin',
    'vector.binlog',
    'transaction_compression.000001',
  ].map((name) => ({ name, bytes: readFileSync(join(FIXTURES, name)) }));

  /** Decodes everything; only SalvageErrors may escape. */
  async function survives(bytes: Uint8Array, verify: boolean): Promise<void> {
    const path = write('fuzz.000001', bytes);
    try {
      await drain(path, verify);
    } catch (error) {
      if (!isSalvageError(error)) throw error;
    }
  }

  test('only SalvageErrors, never another exception', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: sources.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 4 }),
        fc.option(fc.nat(), { nil: undefined }),
        fc.boolean(),
        async (which, flips, cut, verify) => {
          const source = sources[which] as { bytes: Buffer };
          const bytes = Buffer.from(source.bytes);
          for (const [at, bit] of flips) {
            const i = at % bytes.length;
            bytes[i] = (bytes[i] as number) ^ (1 << bit);
          }
          const end = cut === undefined ? bytes.length : cut % (bytes.length + 1);
          await survives(bytes.subarray(0, end), verify);
        },
      ),
      { numRuns: 300 },
    );
  }, 120_000);
});
