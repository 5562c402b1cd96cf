/**
 * sameValue is valueKey equality without building the keys: on every kind
 * of decoded value, including bytes either side of its switch to native
 * comparison, integers as numbers and as bigints, and NaN.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Value } from '../../src/binlog/index.js';
import { sameValue, valueKey } from '../../src/impact/index.js';

const bytes = fc.oneof(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ minLength: 250, maxLength: 300 }));
const value: fc.Arbitrary<Value | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.integer({ min: -3, max: 3 }),
  fc.bigInt({ min: -3n, max: 3n }),
  fc.constantFrom(Number.NaN, 0, -0, 1.5, 2 ** 60),
  fc.constantFrom(2n ** 60n),
  fc.string({ maxLength: 3 }),
  bytes,
);

describe('sameValue', () => {
  it('agrees with comparing valueKeys', () => {
    fc.assert(
      fc.property(value, value, (a, b) => {
        expect(sameValue(a, b)).toBe(valueKey(a) === valueKey(b));
      }),
      { numRuns: 3000 },
    );
  });

  it('compares bytes by content, short and long', () => {
    const long = Buffer.alloc(300, 7);
    const other = Buffer.from(long);
    expect(sameValue(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(sameValue(long, other)).toBe(true);
    other[299] = 8;
    expect(sameValue(long, other)).toBe(false);
    expect(sameValue(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
  });

  it('holds NaN the same as NaN, 1 the same as 1n, and 1 apart from 2', () => {
    expect(sameValue(Number.NaN, Number.NaN)).toBe(true);
    expect(sameValue(1, 1n)).toBe(true);
    expect(sameValue(1, 2)).toBe(false);
    expect(sameValue(0, -0)).toBe(true);
  });
});
