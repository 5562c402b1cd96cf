/**
 * The CRC-32 of binlog events, on both of its paths (the loop below 768
 * bytes, zlib's above where Node has it), against a bit-by-bit reference:
 * any span, any alignment, continued from a previous CRC as the
 * FORMAT_DESCRIPTION check does. And the check of a whole run of events by
 * one CRC: true for intact events, with or without framing between them,
 * false for any one bit flipped anywhere, and false for a run that is not
 * whole events.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventsHoldChecksums } from '../../src/binlog/crc32.js';
import { crc32 } from '../../src/binlog/index.js';
import { MYSQL8_FIXTURES } from '../support/paths.js';

/** CRC-32 (reflected 0xEDB88320) one bit at a time: slow and obviously right. */
function reference(bytes: Uint8Array, start: number, end: number, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = start; i < end; i++) {
    c ^= bytes[i] as number;
    for (let k = 0; k < 8; k++) c = c & 1 ? (0xedb88320 ^ (c >>> 1)) >>> 0 : c >>> 1;
  }
  return ~c >>> 0;
}

describe('crc32', () => {
  it('is the standard check value of "123456789"', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('matches the reference on spans either side of the switch to zlib, at any offset', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 3000 }),
        fc.nat(7),
        fc.nat(3000),
        (bytes, skip, take) => {
          const start = Math.min(skip, bytes.length);
          const end = Math.min(bytes.length, start + take);
          expect(crc32(bytes, start, end)).toBe(reference(bytes, start, end));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('continues from an earlier CRC, across both paths', () => {
    const bytes = Buffer.alloc(4096);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
    for (const cut of [0, 17, 767, 768, 2000]) {
      const whole = reference(bytes, 0, bytes.length);
      expect(crc32(bytes, cut, bytes.length, crc32(bytes, 0, cut))).toBe(whole);
    }
  });
});

/** Events of these body lengths (header and trailer added), each with a valid CRC32, `gap` filler bytes between them. */
function eventRun(bodies: readonly Uint8Array[], gap: number): Buffer {
  const parts: Buffer[] = [];
  for (const [i, body] of bodies.entries()) {
    const event = Buffer.alloc(19 + body.length + 4);
    for (let j = 0; j < 19; j++) event[j] = (j * 37 + i) & 0xff;
    event.writeUInt32LE(event.length, 9);
    event.set(body, 19);
    event.writeUInt32LE(reference(event, 0, event.length - 4), event.length - 4);
    if (i > 0) parts.push(Buffer.alloc(gap, 0x5a + i));
    parts.push(event);
  }
  return Buffer.concat(parts);
}

const bodies = fc.array(fc.uint8Array({ minLength: 0, maxLength: 700 }), { minLength: 1, maxLength: 12 });

describe('eventsHoldChecksums', () => {
  it('holds for intact events, whatever their lengths, with or without framing between them', () => {
    fc.assert(
      fc.property(bodies, fc.constantFrom(0, 5), fc.nat(7), (events, gap, offset) => {
        const run = eventRun(events, gap);
        // At an offset in a larger buffer, as events sit in a read buffer.
        const buffer = Buffer.concat([Buffer.alloc(offset, 1), run, Buffer.alloc(3, 2)]);
        expect(eventsHoldChecksums(buffer, offset, offset + run.length, gap)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('fails when any one bit of any event is flipped, the framing between events aside', () => {
    fc.assert(
      fc.property(bodies, fc.constantFrom(0, 5), fc.nat(), fc.nat(7), (events, gap, where, bit) => {
        const run = eventRun(events, gap);
        const at = where % run.length;
        const reading = Buffer.from(run);
        reading[at] = (reading[at] as number) ^ (1 << bit);
        // A flipped framing byte is no event's: the run still holds.
        const inEvent = eventBytes(run, gap).has(at);
        expect(eventsHoldChecksums(reading, 0, reading.length, gap)).toBe(!inEvent);
      }),
      { numRuns: 400 },
    );
  });

  it('fails for a run that is not whole events: cut short, or a length that runs past its end', () => {
    const run = eventRun([new Uint8Array(40), new Uint8Array(90)], 0);
    expect(eventsHoldChecksums(run, 0, run.length - 1)).toBe(false);
    expect(eventsHoldChecksums(run, 0, 10)).toBe(false);
    const long = Buffer.from(run);
    long.writeUInt32LE(run.length + 1, 9);
    expect(eventsHoldChecksums(long, 0, long.length)).toBe(false);
  });

  it('holds for a real binlog read whole, and fails with one of its events damaged', async () => {
    const bytes = await readFile(join(MYSQL8_FIXTURES, 'bin-log.000001'));
    // The events after the 4-byte magic; the FORMAT_DESCRIPTION's checksum is of its own kind, so from the next one.
    const second = 4 + bytes.readUInt32LE(4 + 9);
    expect(eventsHoldChecksums(bytes, second, bytes.length)).toBe(true);
    const damaged = Buffer.from(bytes);
    const middle = Math.floor((second + bytes.length) / 2);
    damaged[middle] = (damaged[middle] as number) ^ 0x10;
    expect(eventsHoldChecksums(damaged, second, damaged.length)).toBe(false);
  });
});

/** The offsets of `run` that belong to an event, not to the framing between them. */
function eventBytes(run: Buffer, gap: number): Set<number> {
  const offsets = new Set<number>();
  for (let at = 0; at < run.length; ) {
    const length = run.readUInt32LE(at + 9);
    for (let i = at; i < at + length; i++) offsets.add(i);
    at += length + gap;
  }
  return offsets;
}
