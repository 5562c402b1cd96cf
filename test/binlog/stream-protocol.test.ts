import { describe, expect, it } from 'vitest';
import { crc32 } from '../../src/binlog/crc32.js';
import { compareBinlogFiles } from '../../src/binlog/file-names.js';
import { reaches, stepOf } from '../../src/binlog/stream/coordinates.js';
import {
  binlogDumpGtidPayload,
  binlogDumpPayload,
  checkMariadbGtidPosition,
  encodeMysqlGtidSet,
} from '../../src/binlog/stream/protocol.js';

/** A v4 event: 19-byte header, body, and a CRC32 when `checksum`. */
function event(
  fields: { type: number; nextPosition: number; flags?: number; timestamp?: number },
  body: Buffer,
  checksum: boolean,
): Buffer {
  const length = 19 + body.length + (checksum ? 4 : 0);
  const bytes = Buffer.alloc(length);
  bytes.writeUInt32LE(fields.timestamp ?? 1_700_000_000, 0);
  bytes.writeUInt8(fields.type, 4);
  bytes.writeUInt32LE(1, 5);
  bytes.writeUInt32LE(length, 9);
  bytes.writeUInt32LE(fields.nextPosition, 13);
  bytes.writeUInt16LE(fields.flags ?? 0, 17);
  body.copy(bytes, 19);
  if (checksum) bytes.writeUInt32LE(crc32(bytes, 0, length - 4), length - 4);
  return bytes;
}

function rotateBody(position: number, file: string): Buffer {
  const body = Buffer.alloc(8 + file.length);
  body.writeBigUInt64LE(BigInt(position));
  body.write(file, 8, 'latin1');
  return body;
}

describe('dump command payloads', () => {
  it('lays out COM_BINLOG_DUMP as position, flags, server id, file name', () => {
    const payload = binlogDumpPayload('bin.000042', 0x1234, 0x0003, 0xdeadbeef);
    expect(payload.toString('hex')).toBe(
      `12${'34120000'}${'0300'}${'efbeadde'}${Buffer.from('bin.000042').toString('hex')}`,
    );
  });

  it('encodes a MySQL GTID set with exclusive interval ends, as Gtid_set::encode does', () => {
    const set = encodeMysqlGtidSet(
      '3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:7, 00000000-0000-0000-0000-000000000001:3',
    );
    const u64 = (n: number) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(BigInt(n));
      return b.toString('hex');
    };
    expect(set.toString('hex')).toBe(
      u64(2) +
        '3e11fa4771ca11e19e33c80aa9429562' +
        u64(2) +
        u64(1) +
        u64(6) +
        u64(7) +
        u64(8) +
        '00000000000000000000000000000001' +
        u64(1) +
        u64(3) +
        u64(4),
    );
  });

  it('puts the GTID set after a zero-length file name and position 4, with the through-GTID flag', () => {
    const set = encodeMysqlGtidSet('3e11fa47-71ca-11e1-9e33-c80aa9429562:1');
    const payload = binlogDumpGtidPayload(set, 0x0001, 7);
    expect(payload[0]).toBe(0x1e);
    expect(payload.readUInt16LE(1)).toBe(0x0005);
    expect(payload.readUInt32LE(3)).toBe(7);
    expect(payload.readUInt32LE(7)).toBe(0);
    expect(payload.readBigUInt64LE(11)).toBe(4n);
    expect(payload.readUInt32LE(19)).toBe(set.length);
    expect(payload.subarray(23).equals(set)).toBe(true);
  });

  it('refuses malformed GTIDs with BAD_INPUT', () => {
    expect(() => encodeMysqlGtidSet('not-a-uuid:1-3')).toThrow(
      expect.objectContaining({ code: 'BAD_INPUT' }),
    );
    expect(() => encodeMysqlGtidSet('3e11fa47-71ca-11e1-9e33-c80aa9429562:5-2')).toThrow(/increasing/);
    expect(() => encodeMysqlGtidSet('3e11fa47-71ca-11e1-9e33-c80aa9429562:tag:5')).toThrow(/tagged/);
    expect(() => checkMariadbGtidPosition('0-1')).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    expect(() => checkMariadbGtidPosition("0-1-5'; DROP TABLE t; --")).toThrow(
      expect.objectContaining({ code: 'BAD_INPUT' }),
    );
    expect(() => checkMariadbGtidPosition('0-1-5,0-2-7')).toThrow(/twice/);
    expect(checkMariadbGtidPosition(' 0-1-5 , 1-1-9 ')).toBe('0-1-5,1-1-9');
  });
});

describe('placing dump packets in files', () => {
  const where = { file: 'bin.000001', next: 4 };

  it('reads the fake ROTATE as a switch of file, with and without a CRC32 trailer', () => {
    for (const checksum of [true, false]) {
      const fake = event(
        { type: 4, nextPosition: 0, flags: 0x20, timestamp: 0 },
        rotateBody(4, 'bin.000002'),
        checksum,
      );
      expect(stepOf(fake, checksum, where)).toEqual({ kind: 'switch', file: 'bin.000002', position: 4 });
    }
  });

  it('places a real event at log_pos minus its length, a real ROTATE included', () => {
    const query = event({ type: 2, nextPosition: 500 }, Buffer.alloc(60), true);
    expect(stepOf(query, true, where)).toMatchObject({ kind: 'event', position: 500 - query.length });
    const rotate = event({ type: 4, nextPosition: 900 }, rotateBody(4, 'bin.000002'), true);
    expect(stepOf(rotate, true, where)).toMatchObject({ kind: 'event', position: 900 - rotate.length });
  });

  it('places the FORMAT_DESCRIPTION resent with log_pos 0 at offset 4, the file start', () => {
    const fde = event({ type: 15, nextPosition: 0 }, Buffer.alloc(100), true);
    expect(stepOf(fde, true, { file: 'bin.000001', next: 1234 })).toMatchObject({
      kind: 'event',
      position: 4,
    });
  });

  it('skips heartbeats and other artificial events', () => {
    expect(
      stepOf(event({ type: 27, nextPosition: 300 }, Buffer.from('bin.000001'), true), true, where).kind,
    ).toBe('skip');
    expect(
      stepOf(event({ type: 163, nextPosition: 300, flags: 0x20 }, Buffer.alloc(4), true), true, where).kind,
    ).toBe('skip');
  });

  it('rejects an event whose header length or log_pos cannot be right', () => {
    const short = event({ type: 2, nextPosition: 10 }, Buffer.alloc(40), false);
    expect(() => stepOf(short, false, where)).toThrow(expect.objectContaining({ code: 'BINLOG_CORRUPT' }));
    const truncated = event({ type: 2, nextPosition: 500 }, Buffer.alloc(40), false).subarray(0, 30);
    expect(() => stepOf(truncated, false, where)).toThrow(
      expect.objectContaining({ code: 'BINLOG_CORRUPT' }),
    );
  });

  it('orders binlog names numerically, past six digits', () => {
    expect(compareBinlogFiles('bin.999999', 'bin.1000000')).toBeLessThan(0);
    expect(compareBinlogFiles('bin.000010', 'bin.000009')).toBeGreaterThan(0);
    expect(reaches('bin.000002', 100, { file: 'bin.000002', position: 100 })).toBe(true);
    expect(reaches('bin.000002', 99, { file: 'bin.000002', position: 100 })).toBe(false);
    expect(reaches('bin.000003', 4, { file: 'bin.000002', position: 100 })).toBe(true);
  });
});
