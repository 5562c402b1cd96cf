/**
 * Column values of real MySQL binlogs (../shared/fixtures/mysql8) against the
 * values their source projects assert (README "Known values").
 */
import { describe, expect, test } from 'vitest';
import { valueToJson } from '../../../src/binlog/values/to-json.js';
import { type DecodedRowsEvent, FIXTURES, rowsEventsOf } from './fixture-rows.js';

const at = (events: DecodedRowsEvent[], position: number): DecodedRowsEvent => {
  const event = events.find((e) => e.position === position);
  if (event === undefined) throw new Error(`no rows event at ${position}`);
  return event;
};
const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const text = (s: string): Uint8Array => new Uint8Array(Buffer.from(s));

describe('MySQL 8 fixtures', () => {
  test('tcb-eval002c: all 17 × 11 DECIMAL cells as the server printed them', async () => {
    const [event] = await rowsEventsOf(`${FIXTURES}/tcb-eval002c-bin.003320`);
    const table = (await import('node:fs')).readFileSync(`${FIXTURES}/README.md`, 'utf8');
    const start = table.indexOf('| id | v4_2');
    const lines = table.slice(start).split('\n').slice(1, 18);
    expect(event?.rows).toHaveLength(17);
    lines.forEach((line, i) => {
      const cells = line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim());
      const row = event?.rows[i]?.after ?? [];
      expect(row[0]).toBe(Number(cells[0]));
      expect(row.slice(1, 12)).toEqual(cells.slice(1, 12));
      expect(row.slice(12)).toEqual(cells.slice(12).map(Number));
    });
  });

  test('bxc-31: UPDATE_ROWS v2 before and after, FLOAT, DOUBLE, DECIMAL(10,4)', async () => {
    const [event] = await rowsEventsOf(`${FIXTURES}/bxc-31_update_rows_v2-log.bin`);
    // 5.7 TABLE_MAPs have no charset metadata: the text columns stay bytes (exactness over guessing).
    const abc = text('abc');
    const xd = text('xd');
    expect(event?.rows).toEqual([
      {
        before: [1, abc, abc, abc, abc, abc, 1, 2, '3.0000'],
        after: [1, xd, xd, xd, xd, xd, 4, 4, '4.0000'],
      },
    ]);
  });

  test('bin-log.000001 (EasyPost): BIGINT 1 and DECIMAL(10,5) 0.1', async () => {
    const [first] = await rowsEventsOf(`${FIXTURES}/bin-log.000001`);
    expect(first?.rows[0]?.after?.slice(0, 2)).toEqual([1, '0.10000']);
  });

  test('json-opaque: opaque VARCHAR, DATE, DATETIME, TIME, DECIMAL values, an array and null', async () => {
    const events = await rowsEventsOf(`${FIXTURES}/json-opaque.binlog`);
    const json = events.map((e) => e.rows[0]?.after?.[0]);
    // MySQL prints DECIMAL inside JSON as a bare number (the crate's serde form quotes it).
    expect(json).toEqual([
      '{"a": "base64:type15:VQ=="}',
      '{"b": "2012-03-18"}',
      '{"c": "2012-03-18 11:30:45.000000"}',
      '{"c": "87:31:46.654321"}',
      '{"d": 123.456}',
      '{"e": 9.00}',
      '{"e": [0, 1, true, false]}',
      '{"e": null}',
    ]);
    expect(events.map((e) => e.position)).toEqual([736, 846, 963, 1080, 1197, 1312, 1428, 1551]);
  });

  test('json.binlog: binary JSON documents, full UPDATE, and PARTIAL_UPDATE_ROWS diffs kept explicit', async () => {
    const events = await rowsEventsOf(`${FIXTURES}/json.binlog.000001`);
    expect(at(events, 1059).rows[0]?.after).toEqual([
      1,
      '{"age": 24, "data": "xxxxxxxxxx", "name": "Joe"}',
      'Joe',
      24,
    ]);
    const full = at(events, 2612);
    expect(full.rows[0]?.after?.[1]).toBe('{"age": 25, "data": "xxxxxxxxxx", "name": "Joe"}');
    const partial = at(events, 3750);
    expect(partial.type).toBe(39);
    expect(partial.rows).toHaveLength(6);
    // The before image is the primary key only, so the new documents are unknown: the diffs stay.
    expect(partial.rows[0]).toEqual({
      before: [1, undefined, undefined, undefined],
      after: [
        undefined,
        { kind: 'json-diff', diffs: [{ operation: 'replace', path: '$.age', value: '26' }] },
        'Joe',
        26,
      ],
    });
    expect(partial.rows.map((r) => r.after?.[3])).toEqual([26, 34, 42, 26, 34, 42]);
    expect(valueToJson(partial.rows[1]?.after?.[1])).toEqual({
      jsonDiff: [{ operation: 'replace', path: '$.age', value: '34' }],
    });
  });

  test('vector.binlog: VECTOR bytes', async () => {
    const events = await rowsEventsOf(`${FIXTURES}/vector.binlog`);
    const foo = at(events, 1085);
    expect(foo.rows.map((r) => r.after)).toEqual([
      [1, bytes(205, 204, 140, 63, 205, 204, 12, 64, 51, 51, 83, 64)],
      [2, bytes(0, 0, 128, 63, 0, 0, 128, 191, 0, 0, 0, 0)],
    ]);
  });

  test('mysql-enum-string-set: CHAR(128) utf8mb4 (packed `de 00` meta), VARCHAR(300), ENUM and SET names', async () => {
    const events = await rowsEventsOf(`${FIXTURES}/mysql-enum-string-set.000001`);
    const s100 = '0123456789'.repeat(10);
    const s298 = `${'0123456789'.repeat(12)}012345678`.repeat(2) + '0123456789'.repeat(4);
    expect(s298).toHaveLength(298);
    expect(events.map((e) => e.op)).toEqual(['insert', 'update', 'delete']);
    expect(events[0]?.table.columns[0]?.meta).toBe(0xde00);
    const first = [s100, s298, 'var1', 'one,three', '0123456789'];
    const second = ['field1', 'field_2', 'variant2', 'two,four', s298];
    expect(events[0]?.rows).toEqual([{ after: first }]);
    expect(events[1]?.rows).toEqual([{ before: first, after: second }]);
    expect(events[2]?.rows).toEqual([{ before: second }]);
  });

  test('mysql_type_bit: BIT(3) b100, TEXT foo, BIT(8) 0x20', async () => {
    const [event] = await rowsEventsOf(`${FIXTURES}/mysql_type_bit.000001`);
    expect(event?.rows).toEqual([{ after: [bytes(0b100), 'foo', bytes(0x20)] }]);
    expect(event?.rows[0]?.after?.map(valueToJson)).toEqual([{ hex: '04' }, 'foo', { hex: '20' }]);
  });

  test('minimal_row_metadata: absent columns are undefined, INT UNSIGNED 3230202323, CHAR in collation 255', async () => {
    const [event] = await rowsEventsOf(`${FIXTURES}/minimal_row_metadata.000001`);
    expect(event?.table.columns[2]?.charset).toBe(255);
    const after = event?.rows[0]?.after ?? [];
    expect(after[1]).toBeUndefined();
    expect(after[3]).toBeUndefined();
    expect(after[4]).toBe(3230202323);
    expect(after).toHaveLength(5);
  });

  test('time_issue: negative TIME2 -507:48:27', async () => {
    const [event] = await rowsEventsOf(`${FIXTURES}/time_issue.000001`);
    expect(event?.rows).toEqual([{ after: ['-507:48:27'] }]);
  });

  test('binlog-invisible-columns: invisible unsigned columns, negative INT, NULLs, TEXT vs BLOB, BIGINT UNSIGNED', async () => {
    const events = await rowsEventsOf(`${FIXTURES}/binlog-invisible-columns.000001`);
    expect(events[0]?.table.columns.map((c) => c.visible)).toEqual([false, false, true, true, true, false]);
    expect(events[0]?.rows[0]?.after).toEqual([1, 2, -3, '4', bytes(5), 6000000000]);
    expect(events[1]?.rows[0]?.after).toEqual([null, null, -33, '44', bytes(0x55), null]);
    expect(events[2]?.rows[0]?.after).toEqual([111, 222, -333, '444', bytes(0x55), null]);
  });

  test('mysql-bin.000057: rows inside zstd payloads; TIMESTAMP2, DATE, ENUM/SET numbers, BINARY padded, JSON', async () => {
    const events = await rowsEventsOf(`${FIXTURES}/mysql-bin.000057`);
    const update = events.find((e) => e.op === 'update');
    const before = update?.rows[0]?.before ?? [];
    expect(before.slice(0, 10)).toEqual([
      55555,
      'product_item_value_2',
      '2022-11-20',
      111,
      'description_1',
      '2022-11-20 13:40:30',
      4,
      8,
      bytes(0x62, 0x33, 0x00),
      '{"c": 1}',
    ]);
  });

  test('sakila (5.5, ROWS v1): 47,273 rows; old TIMESTAMP and DATETIME, YEAR, SMALLINT, MEDIUMINT', async () => {
    const events = await rowsEventsOf(`${FIXTURES}/mysql-bin.sakila.gz`);
    expect(events.reduce((n, e) => n + e.rows.length, 0)).toBe(47273);
    const payment = events.find((e) => e.table.table === 'payment');
    expect(payment?.rows[0]?.after).toEqual([
      1,
      1,
      1,
      76,
      '2.99',
      '2005-05-25 11:30:37',
      '2006-02-15 21:12:30',
    ]);
    const film = events.find((e) => e.table.table === 'film');
    // release_year YEAR 2006; rating ENUM index 2 and special_features SET bits 12 (no names in 5.5 TABLE_MAPs).
    expect(film?.rows[0]?.after?.slice(3)).toEqual([
      2006,
      1,
      null,
      6,
      '0.99',
      86,
      '20.99',
      2,
      12,
      '2006-02-15 04:03:42',
    ]);
    const inventory = events.find((e) => e.table.table === 'inventory');
    expect(inventory?.table.columns[0]?.type).toBe(9);
  });
});
