/**
 * The CRC-32 of binlog events, on both of its paths (the loop below 768
 * bytes, zlib's above where Node has it), against a bit-by-bit reference:
 * any span, any alignment, continued from a previous CRC as the
 * FORMAT_DESCRIPTION check does.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../../src/binlog/index.js';

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
