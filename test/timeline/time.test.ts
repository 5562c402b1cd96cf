import { describe, expect, test } from 'vitest';
import { formatInstant, parseTime, zoneOffsetMs } from '../../src/timeline/index.js';

describe('times in an explicit zone', () => {
  test('a plain local time', () => {
    expect(parseTime('2024-07-01 12:00:00', 'Europe/Paris')).toBe(Date.UTC(2024, 6, 1, 10) / 1000);
    expect(parseTime('2024-07-01 12:00:00.250000', 'UTC')).toBe(Date.UTC(2024, 6, 1, 12) / 1000 + 0.25);
    expect(parseTime('2024-07-01', 'Asia/Tokyo')).toBe(Date.UTC(2024, 5, 30, 15) / 1000);
  });

  test('ISO 8601 with an offset and @epoch ignore the zone', () => {
    expect(parseTime('2024-11-03T01:30:00-04:00', 'Asia/Tokyo')).toBe(Date.UTC(2024, 10, 3, 5, 30) / 1000);
    expect(parseTime('2024-11-03 06:30:00Z', 'Asia/Tokyo')).toBe(Date.UTC(2024, 10, 3, 6, 30) / 1000);
    expect(parseTime('@1700000000.5', 'Asia/Tokyo')).toBe(1700000000.5);
  });

  test('a local time that happens twice is AMBIGUOUS_TIME with both candidates', () => {
    const error = (() => {
      try {
        parseTime('2024-11-03 01:30:00', 'America/New_York');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toMatchObject({
      code: 'AMBIGUOUS_TIME',
      exit: 2,
      context: { candidates: ['2024-11-03T05:30:00.000Z', '2024-11-03T06:30:00.000Z'] },
    });
    expect(String((error as Error).message)).toContain('-04:00');
    expect(String((error as Error).message)).toContain('-05:00');
  });

  test('a local time the clocks skip is NONEXISTENT_TIME with both readings', () => {
    expect(() => parseTime('2024-03-10 02:30:00', 'America/New_York')).toThrow(
      expect.objectContaining({
        code: 'NONEXISTENT_TIME',
        context: expect.objectContaining({
          candidates: ['2024-03-10T06:30:00.000Z', '2024-03-10T07:30:00.000Z'],
        }),
      }),
    );
  });

  test('bad input', () => {
    expect(() => parseTime('yesterday', 'UTC')).toThrow(expect.objectContaining({ code: 'BAD_TIME' }));
    expect(() => parseTime('2024-02-30 00:00:00', 'UTC')).toThrow(
      expect.objectContaining({ code: 'BAD_TIME' }),
    );
    expect(() => parseTime('2024-02-01', 'Mars/Olympus')).toThrow(
      expect.objectContaining({ code: 'BAD_INPUT' }),
    );
  });

  test('offsets and formatting', () => {
    expect(zoneOffsetMs('America/New_York', Date.UTC(2024, 0, 1))).toBe(-5 * 3600 * 1000);
    expect(formatInstant(Date.UTC(2024, 6, 1, 10) / 1000 + 0.000001, 'Europe/Paris')).toBe(
      '2024-07-01 12:00:00.000001 +02:00',
    );
    expect(formatInstant(1700000000, 'UTC')).toBe('2023-11-14 22:13:20 +00:00');
  });
});
