import { describe, expect, it } from 'vitest';
import { lowestOfStream, lowestPerServer } from '../../src/binlog/gtid-list.js';
import {
  compactGtids,
  expandGtids,
  firstFileHolding,
  GtidMatcher,
  parseGtidState,
  selectGtids,
} from '../../src/binlog/index.js';
import { isSalvageError } from '../../src/errors.js';

const UUID = '3e11fa47-71ca-11e1-9e33-c80aa9429562';

function refusal(args: string[]): string {
  try {
    expandGtids(args);
  } catch (error) {
    if (isSalvageError(error) && error.code === 'BAD_INPUT') return error.message;
    throw error;
  }
  throw new Error('expected BAD_INPUT');
}

describe('expandGtids', () => {
  it('expands MariaDB and MySQL ranges and comma lists, in order, each GTID once', () => {
    expect(expandGtids(['0-1-8..0-1-10', '0-1-9,2-5-1', `${UUID}:4-6`, `${UUID}:2`])).toEqual([
      '0-1-8',
      '0-1-9',
      '0-1-10',
      '2-5-1',
      `${UUID}:4`,
      `${UUID}:5`,
      `${UUID}:6`,
      `${UUID}:2`,
    ]);
    expect(expandGtids([`${UUID}:tag_a:7`])).toEqual([`${UUID}:tag_a:7`]);
    // Sequence numbers are unsigned 64-bit: beyond 2^53 a range still counts exactly.
    expect(expandGtids(['0-1-9007199254740991..0-1-9007199254740994'])).toEqual([
      '0-1-9007199254740991',
      '0-1-9007199254740992',
      '0-1-9007199254740993',
      '0-1-9007199254740994',
    ]);
  });

  it('refuses ranges across servers or domains, backwards ranges, huge ranges and text that is no GTID', () => {
    expect(refusal(['0-1-8..0-2-10'])).toContain('0-1-8..0-2-10');
    expect(refusal(['0-1-8..1-1-10'])).toContain('not a GTID');
    expect(refusal(['0-1-10..0-1-8'])).toContain('0-1-10..0-1-8');
    expect(refusal(['0-1-1..0-1-99999999'])).toContain('more than');
    expect(refusal(['V42'])).toContain('"V42"');
    expect(refusal([`${UUID}:9-3`])).toContain(`${UUID}:9-3`);
  });

  it('compacts consecutive transactions back into ranges that expand to the same list', () => {
    const args = ['0-1-8..0-1-10', '0-1-12', '2-5-1', `${UUID}:4-6`, `${UUID}:2`, '0-1-13'];
    const compact = compactGtids(expandGtids(args));
    expect(compact).toEqual(['0-1-8..0-1-10', '0-1-12', '2-5-1', `${UUID}:4-6`, `${UUID}:2`, '0-1-13']);
    expect(expandGtids(compact)).toEqual(expandGtids(args));
    expect(compactGtids(['0-1-5', '0-1-6', '0-2-7'])).toEqual(['0-1-5..0-1-6', '0-2-7']);
    // One range, as expanded: the same answer as reading every name of a copy.
    const range = expandGtids(['0-1-99998..0-1-100002']);
    expect(compactGtids(range)).toEqual(['0-1-99998..0-1-100002']);
    expect(compactGtids([...range])).toEqual(compactGtids(range));
  });

  it('names a MySQL source in lower case, as the server logs it, whatever case it was given in', () => {
    expect(expandGtids([`${UUID.toUpperCase()}:TAG_A:3-4`, `${UUID.toUpperCase()}:9`])).toEqual([
      `${UUID}:tag_a:3`,
      `${UUID}:tag_a:4`,
      `${UUID}:9`,
    ]);
  });

  it('compacts across the largest exact number, tagged MySQL GTIDs, and leaves what is not a GTID as it is', () => {
    const big = [
      '0-1-999999999999999',
      '0-1-1000000000000000',
      '0-1-1000000000000001',
      '0-1-1000000000000003',
    ];
    expect(compactGtids(big)).toEqual(['0-1-999999999999999..0-1-1000000000000001', '0-1-1000000000000003']);
    expect(compactGtids([`${UUID}:tag_a:4`, `${UUID}:tag_a:5`, `${UUID}:6`])).toEqual([
      `${UUID}:tag_a:4-5`,
      `${UUID}:6`,
    ]);
    expect(compactGtids(['0-1-', 'x-1-2', '0-1-2', '0-1-3'])).toEqual(['0-1-', 'x-1-2', '0-1-2..0-1-3']);
  });
});

const MATCHED = [
  '0-1-100',
  '4294967295-4294967295-7',
  '1-2-007',
  '0-1-18446744073709551615',
  `${UUID}:5`,
  '3-1-100',
  '0-1-100',
];

// Sequence numbers close together are looked up in a table, spread out in a hash: both answer alike.
describe.each([
  ['close together', MATCHED],
  ['spread out', [...MATCHED, '9-9-900000000000']],
])('GtidMatcher, sequence numbers %s', (_, gtids) => {
  const matcher = new GtidMatcher(gtids);

  it('matches a MariaDB GTID event by its numbers, answering its position among the GTIDs', () => {
    expect(matcher.mariadb(0, 1, 100n, '0-1-100')).toBe(0);
    expect(matcher.mariadb(4294967295, 4294967295, 7n, '4294967295-4294967295-7')).toBe(1);
    // Another domain with the same sequence number.
    expect(matcher.mariadb(3, 1, 100n, '3-1-100')).toBe(5);
    expect(matcher.mariadb(0, 1, 101n, '0-1-101')).toBeUndefined();
    expect(matcher.mariadb(0, 2, 100n, '0-2-100')).toBeUndefined();
    expect(matcher.mariadb(1, 1, 100n, '1-1-100')).toBeUndefined();
  });

  it('matches what is not written as servers write it by its text only', () => {
    // A server logs 1-2-7, never 1-2-007: the GTID named does not match it, as with text.
    expect(matcher.mariadb(1, 2, 7n, '1-2-7')).toBeUndefined();
    expect(matcher.text('1-2-007')).toBe(2);
    // Beyond 2^53 the numbers round; the text decides.
    expect(matcher.mariadb(0, 1, 18446744073709551615n, '0-1-18446744073709551615')).toBe(3);
    expect(matcher.mariadb(0, 1, 18446744073709551614n, '0-1-18446744073709551614')).toBeUndefined();
  });

  it('matches MySQL GTIDs and MariaDB text alike', () => {
    expect(matcher.text(`${UUID}:5`)).toBe(4);
    expect(matcher.text(`${UUID}:6`)).toBeUndefined();
    expect(matcher.text('0-1-100')).toBe(0);
    expect(matcher.text('0-1-99')).toBeUndefined();
  });

  it('names a GTID listed twice by its first position', () => {
    expect(matcher.first(6)).toBe(0);
    expect(matcher.first(5)).toBe(5);
  });

  it('matches numbers below and above the lowest and highest listed', () => {
    expect(matcher.mariadb(0, 1, 0n, '0-1-0')).toBeUndefined();
    expect(matcher.mariadb(0, 1, 6n, '0-1-6')).toBeUndefined();
    expect(matcher.mariadb(0, 1, 900000000001n, '0-1-900000000001')).toBeUndefined();
    expect(matcher.mariadb(9, 9, 900000000000n, '9-9-900000000000')).toBe(gtids.length === 8 ? 7 : undefined);
  });
});

describe('GtidMatcher over a range', () => {
  const gtids = expandGtids(['0-1-1000..0-1-60999', '0-2-1000', '0-1-1000']);

  it('answers every transaction of the range by its position, and one of another server with the same number', () => {
    const matcher = new GtidMatcher(gtids);
    expect(gtids).toHaveLength(60001);
    const answers = [
      [0, 1, 1000, 0],
      [0, 1, 33333, 32333],
      [0, 1, 60999, 59999],
      [0, 2, 1000, 60000],
      [0, 1, 999, undefined],
      [0, 1, 61000, undefined],
      [1, 1, 2000, undefined],
    ] as const;
    for (const [domain, server, sequence, position] of answers) {
      const gtid = `${domain}-${server}-${sequence}`;
      expect(matcher.mariadb(domain, server, BigInt(sequence), gtid), gtid).toBe(position);
    }
  });

  it('compacts it back to the range, and a broken run into its pieces', () => {
    expect(compactGtids(gtids)).toEqual(['0-1-1000..0-1-60999', '0-2-1000']);
    const holed = gtids.filter((g) => g !== '0-1-5000');
    expect(compactGtids(holed)).toEqual(['0-1-1000..0-1-4999', '0-1-5001..0-1-60999', '0-2-1000']);
  });
});

// A list expandGtids made from one range is matched from what it knows of the range, not by reading the names back.
describe('a range known without reading it back', () => {
  const probes = [
    [0, 1, 999n],
    [0, 1, 1000n],
    [0, 1, 30000n],
    [0, 1, 60999n],
    [0, 1, 61000n],
    [0, 2, 1000n],
    [1, 1, 1000n],
  ] as const;
  const answers = (gtids: readonly string[]): unknown[] => {
    const matcher = new GtidMatcher(gtids);
    return [
      ...probes.map(([d, s, n]) => matcher.mariadb(d, s, n, `${d}-${s}-${n}`)),
      ...probes.map(([d, s, n]) => matcher.text(`${d}-${s}-${n}`)),
      matcher.first(5),
      lowestOfStream(gtids),
      lowestPerServer(gtids),
      lowestOfStream(selectGtids(gtids)),
      lowestPerServer(selectGtids(gtids)),
    ];
  };

  it('answers as the same GTIDs listed one by one', () => {
    const range = expandGtids(['0-1-1000..0-1-60999']);
    expect(answers(range)).toEqual(answers([...range]));
    expect(answers(range).slice(0, 7)).toEqual([undefined, 0, 29000, 59999, undefined, undefined, undefined]);
    // Names servers never write (a leading zero) are matched by their text, as when listed.
    const padded = expandGtids(['0-01-5..0-01-9']);
    expect(new GtidMatcher(padded).mariadb(0, 1, 5n, '0-1-5')).toBeUndefined();
    expect(new GtidMatcher(padded).text('0-01-5')).toBe(0);
    expect(answers(padded)).toEqual(answers([...padded]));
  });

  it('cannot be changed after it was made, so what is known of it stays true', () => {
    const range = expandGtids(['0-1-1..0-1-10']);
    expect(() => (range as string[]).push('0-1-99')).toThrow(TypeError);
  });
});

describe('lowestOfStream', () => {
  it('finds the lowest of a long range in any order, across servers of one domain, and nothing across domains', () => {
    const range = [...expandGtids(['0-1-1000..0-1-60999'])].reverse();
    expect(lowestOfStream(range)).toMatchObject({ prefix: '0-1-', stream: '0', sequence: 1000 });
    expect(lowestOfStream([...range, '0-2-999'])).toMatchObject({ prefix: '0-2-', sequence: 999 });
    expect(lowestOfStream([...range, '0-1-0999'])).toMatchObject({ prefix: '0-1-', sequence: 999 });
    expect(lowestOfStream([...range, '1-1-5'])).toBeUndefined();
    expect(lowestOfStream([`${UUID}:9`, `${UUID}:7`, `${UUID.toUpperCase()}:8`])).toMatchObject({
      sequence: 7,
    });
  });
});

describe('the first file holding a range', () => {
  it('is decided by the lowest GTID of each MariaDB server, and by every MySQL GTID', () => {
    expect(
      lowestPerServer(['0-1-5', '0-1-3', '0-2-9', '0-1-007', `${UUID}:3`, `${UUID}:1`, '0-1-4']),
    ).toEqual([`${UUID}:3`, `${UUID}:1`, '0-1-3', '0-2-9']);
  });

  it('skips exactly the files every named transaction was logged after', async () => {
    const states = [undefined, parseGtidState('0-1-2'), parseGtidState('0-1-40000,0-2-9')];
    const first = (gtids: readonly string[]): Promise<number> =>
      firstFileHolding(states.length, async (k) => states[k], gtids);
    expect(await first(expandGtids(['0-1-3..0-1-60000']))).toBe(1);
    expect(await first(expandGtids(['0-1-40001..0-1-60000']))).toBe(2);
    // One transaction of another server logged before the last file keeps it from being skipped to.
    expect(await first(expandGtids(['0-1-40001..0-1-60000', '0-2-9']))).toBe(1);
    expect(await first(['0-1-1'])).toBe(0);
    // A MySQL set with a gap: the transaction in the gap was not logged before, the one after it was.
    const mysql = [undefined, parseGtidState(`${UUID}:1-5:7-9`)];
    expect(await firstFileHolding(2, async (k) => mysql[k], [`${UUID}:6`])).toBe(1);
    expect(await firstFileHolding(2, async (k) => mysql[k], [`${UUID}:6`, `${UUID}:8`])).toBe(0);
  });
});
