/**
 * The bisection on a MySQL 8 binlog: no MySQL server runs here, so a large
 * file is made of a real one's events (fixtures/mysql8): its
 * FORMAT_DESCRIPTION and PREVIOUS_GTIDS, then one of its transactions
 * (GTID, BEGIN, TABLE_MAP, WRITE_ROWS, XID) over and over, each copy with
 * the next GNO, its own log_pos and a fresh CRC32, as a server would have
 * logged them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { crc32, expandGtids, findTransactionStart } from '../../src/binlog/index.js';
import { MYSQL8_FIXTURES } from '../support/paths.js';

const SOURCE = join(MYSQL8_FIXTURES, 'binlog-invisible-columns.000001');
/** Offsets in SOURCE: everything before the first GTID, and one whole transaction. */
const HEAD_END = 156;
const TRANSACTION = [787, 1120] as const;
/** In a GTID event (type 33): flags (1), SID (16), then the GNO (8, little-endian). */
const GNO_AT = 19 + 1 + 16;
const COPIES = 60_000;

let file: string;
let sid: string;

beforeAll(async () => {
  const source = readFileSync(SOURCE);
  const transaction = source.subarray(TRANSACTION[0], TRANSACTION[1]);
  expect(transaction[4]).toBe(33);
  sid = source.subarray(TRANSACTION[0] + 20, TRANSACTION[0] + 36).toString('hex');
  const out = Buffer.alloc(HEAD_END + COPIES * transaction.length);
  source.copy(out, 0, 0, HEAD_END);
  let at = HEAD_END;
  for (let gno = 1; gno <= COPIES; gno++) {
    transaction.copy(out, at);
    out.writeBigUInt64LE(BigInt(gno), at + GNO_AT);
    for (let event = at; event < at + transaction.length; ) {
      const length = out.readUInt32LE(event + 9);
      out.writeUInt32LE(event + length, event + 13);
      out.writeUInt32LE(crc32(out, event, event + length - 4), event + length - 4);
      event += length;
    }
    at += transaction.length;
  }
  file = join(await mkdtemp(join(tmpdir(), 'salvage-seek-mysql8-')), 'binlog.000001');
  writeFileSync(file, out);
});

const uuid = (): string =>
  `${sid.slice(0, 8)}-${sid.slice(8, 12)}-${sid.slice(12, 16)}-${sid.slice(16, 20)}-${sid.slice(20)}`;

describe('bisecting a MySQL 8 binlog of 20 MB', () => {
  it('lands on the same GTID event as stepping through every one, for a UUID in either case', async () => {
    for (const named of [`${uuid()}:41234`, `${uuid().toUpperCase()}:41234`]) {
      const gtids = new Set(expandGtids([named]));
      const stepped = await findTransactionStart([file], gtids);
      const sought = await findTransactionStart([file], gtids, { seek: true });
      expect(stepped?.position).toBe(HEAD_END + 41233 * (TRANSACTION[1] - TRANSACTION[0]));
      expect(sought).toEqual({ ...stepped, sought: true });
    }
  });

  it('finds the first of several, and nothing for a GNO the file does not hold', async () => {
    const gtids = new Set([`${uuid()}:59000`, `${uuid()}:7`, `${uuid()}:30000`]);
    const sought = await findTransactionStart([file], gtids, { seek: true });
    expect(sought?.position).toBe(HEAD_END + 6 * (TRANSACTION[1] - TRANSACTION[0]));
    expect(await findTransactionStart([file], new Set([`${uuid()}:60001`]), { seek: true })).toBeUndefined();
  });
});
