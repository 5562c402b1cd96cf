/**
 * Encodings no fixture or MariaDB server produces: MySQL binary JSON in its
 * large form and every scalar type, JSON diffs applied (INSERT/REMOVE too),
 * negative-zero DECIMAL bytes, charsets, and the --json value encoding.
 */
import { describe, expect, test } from 'vitest';
import { Bitmap, ByteReader } from '../../../src/binlog/byte-reader.js';
import { decodeRows } from '../../../src/binlog/rows.js';
import {
  type ColumnDef,
  ColumnType,
  type TableMap,
  type TableMapDetails,
} from '../../../src/binlog/types.js';
import { decodeText } from '../../../src/binlog/values/charset.js';
import { readDecimal } from '../../../src/binlog/values/decimal.js';
import {
  formatJsonDouble,
  type JsonNode,
  jsonBinaryToText,
  jsonText,
  readJsonBinary,
} from '../../../src/binlog/values/json-binary.js';
import { applyJsonDiffs, readJsonDiffs } from '../../../src/binlog/values/json-diff.js';
import { withLiveSchema } from '../../../src/binlog/values/live-schema.js';
import { toHex, valueToJson } from '../../../src/binlog/values/to-json.js';
import { decodeValue } from '../../../src/binlog/values/value.js';
import type { TableShape } from '../../../src/mysql/index.js';

/** A JSON value to encode; wrappers pick the binary type where JavaScript cannot tell. */
type J =
  | null
  | boolean
  | number
  | string
  | { readonly int64: bigint }
  | { readonly uint64: bigint }
  | { readonly double: number }
  | { readonly opaque: number; readonly data: Buffer }
  | readonly J[]
  | { readonly [key: string]: J };

/** A minimal binary JSON writer (json_binary.cc layout), to feed the reader shapes servers write. */
function encodeJson(value: J, large = false): Buffer {
  const [type, payload] = encodeValue(value, large);
  return Buffer.concat([Buffer.from([type]), payload]);
}

function varLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

function encodeValue(value: J, large: boolean): [number, Buffer] {
  if (value === null) return [0x04, Buffer.from([0])];
  if (value === true) return [0x04, Buffer.from([1])];
  if (value === false) return [0x04, Buffer.from([2])];
  if (typeof value === 'number') {
    const b = Buffer.alloc(4);
    if (value >= -32768 && value <= 32767) {
      b.writeInt16LE(value);
      return [0x05, b.subarray(0, 2)];
    }
    if (value >= 0 && value <= 65535) {
      b.writeUInt16LE(value);
      return [0x06, b.subarray(0, 2)];
    }
    if (value >= -(2 ** 31) && value < 2 ** 31) {
      b.writeInt32LE(value);
      return [0x07, b];
    }
    b.writeUInt32LE(value);
    return [0x08, b];
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return [0x0c, Buffer.concat([varLength(bytes.length), bytes])];
  }
  if (Array.isArray(value))
    return encodeContainer(
      value.map((v) => [undefined, v]),
      large,
      false,
    );
  if ('int64' in value) {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(value.int64 as bigint);
    return [0x09, b];
  }
  if ('uint64' in value) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(value.uint64 as bigint);
    return [0x0a, b];
  }
  if ('double' in value) {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(value.double as number);
    return [0x0b, b];
  }
  if ('opaque' in value && Buffer.isBuffer(value.data)) {
    return [
      0x0f,
      Buffer.concat([Buffer.from([value.opaque as number]), varLength(value.data.length), value.data]),
    ];
  }
  const entries = Object.entries(value as Record<string, J>).sort(([a], [b]) => {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length - y.length || Buffer.compare(x, y);
  });
  return encodeContainer(entries, large, true);
}

function encodeContainer(
  entries: [string | undefined, J][],
  large: boolean,
  isObject: boolean,
): [number, Buffer] {
  const o = large ? 4 : 2;
  const header = 2 * o + (isObject ? entries.length * (o + 2) : 0) + entries.length * (1 + o);
  const keys = entries.map(([k]) => Buffer.from(k ?? '', 'utf8'));
  let offset = header + (isObject ? keys.reduce((n, k) => n + k.length, 0) : 0);
  const writeOffset = (b: Buffer, at: number, v: number): void => {
    if (large) b.writeUInt32LE(v, at);
    else b.writeUInt16LE(v, at);
  };
  const keyEntries = Buffer.alloc(isObject ? entries.length * (o + 2) : 0);
  let keyOffset = header;
  (isObject ? keys : []).forEach((k, i) => {
    writeOffset(keyEntries, i * (o + 2), keyOffset);
    keyEntries.writeUInt16LE(k.length, i * (o + 2) + o);
    keyOffset += k.length;
  });
  const valueEntries = Buffer.alloc(entries.length * (1 + o));
  const values: Buffer[] = [];
  entries.forEach(([, v], i) => {
    const [type, payload] = encodeValue(v, large);
    valueEntries[i * (1 + o)] = type;
    const inlined =
      type === 0x04 || type === 0x05 || type === 0x06 || (large && (type === 0x07 || type === 0x08));
    if (inlined) {
      payload.copy(valueEntries, i * (1 + o) + 1);
    } else {
      writeOffset(valueEntries, i * (1 + o) + 1, offset);
      values.push(payload);
      offset += payload.length;
    }
  });
  const head = Buffer.alloc(2 * o);
  writeOffset(head, 0, entries.length);
  writeOffset(head, o, offset);
  const type = (isObject ? 0x00 : 0x02) + (large ? 1 : 0);
  return [type, Buffer.concat([head, keyEntries, valueEntries, ...(isObject ? keys : []), ...values])];
}

const DOCUMENT: J = {
  zeta: [
    1,
    -2,
    70000,
    -70000,
    3000000000,
    { int64: -9223372036854775808n },
    { uint64: 18446744073709551615n },
  ],
  a: { double: 2.5 },
  text: 'quote " backslash \\ newline \n tab \t 😀 é'.repeat(4),
  nested: { t: true, f: false, n: null, empty: {}, none: [] },
};
const DOCUMENT_TEXT =
  '{"a": 2.5, "text": ' +
  JSON.stringify('quote " backslash \\ newline \n tab \t 😀 é'.repeat(4)) +
  ', "zeta": [1, -2, 70000, -70000, 3000000000, -9223372036854775808, 18446744073709551615], ' +
  '"nested": {"f": false, "n": null, "t": true, "none": [], "empty": {}}}';

describe('binary JSON', () => {
  test('small and large containers, every scalar type, keys in stored order', () => {
    expect(jsonBinaryToText(encodeJson(DOCUMENT))).toBe(DOCUMENT_TEXT);
    expect(jsonBinaryToText(encodeJson(DOCUMENT, true))).toBe(DOCUMENT_TEXT);
  });

  test('scalar documents, an empty value (JSON null) and doubles printed like MySQL', () => {
    expect(jsonBinaryToText(encodeJson('x'))).toBe('"x"');
    expect(jsonBinaryToText(encodeJson({ uint64: 1n }))).toBe('1');
    expect(jsonBinaryToText(Buffer.alloc(0))).toBe('null');
    expect([3, 1e300, -0, 0.1, 1e-7].map(formatJsonDouble)).toEqual(['3.0', '1e300', '-0.0', '0.1', '1e-7']);
  });

  test('opaque values: DECIMAL as a number, DATETIME packed, other types base64', () => {
    // DECIMAL(5,2) -123.45: precision, scale, then the decimal bytes.
    const decimal = Buffer.from([5, 2, 0x7f, 0x84, 0xd2]);
    expect(jsonBinaryToText(encodeJson([{ opaque: ColumnType.NEWDECIMAL, data: decimal }]))).toBe(
      '[-123.45]',
    );
    const packed = Buffer.alloc(8);
    // 2012-03-18 11:30:45.5: ((year*13+month) << 22 | day << 17 | h << 12 | m << 6 | s) << 24 | micros
    const integer = BigInt((2012 * 13 + 3) * 2 ** 22 + 18 * 2 ** 17 + 11 * 2 ** 12 + 30 * 64 + 45);
    packed.writeBigInt64LE((integer << 24n) | 500000n);
    expect(jsonBinaryToText(encodeJson([{ opaque: ColumnType.DATETIME, data: packed }]))).toBe(
      '["2012-03-18 11:30:45.500000"]',
    );
    expect(jsonBinaryToText(encodeJson([{ opaque: ColumnType.BLOB, data: Buffer.from('hi') }]))).toBe(
      '["base64:type252:aGk="]',
    );
  });

  test('damaged documents are typed errors', () => {
    const doc = encodeJson({ a: 'xyz' });
    expect(() => jsonBinaryToText(doc.subarray(0, doc.length - 2))).toThrow(/binary JSON|ends early/);
    expect(() => jsonBinaryToText(Buffer.from([0x42]))).toThrow(/unknown/);
  });
});

/** Json_diff_vector bytes: operation, packed path length, path, packed value length, binary JSON. */
function encodeDiffs(diffs: readonly { op: 0 | 1 | 2; path: string; value?: J }[]): Buffer {
  const parts: Buffer[] = [];
  for (const d of diffs) {
    const path = Buffer.from(d.path);
    parts.push(Buffer.from([d.op, path.length]), path);
    if (d.op !== 2) {
      const value = encodeJson(d.value ?? null);
      parts.push(Buffer.from([value.length]), value);
    }
  }
  return Buffer.concat(parts);
}

describe('JSON diffs', () => {
  const beforeBytes = encodeJson({ a: 1, list: [1, 2, 3], 'b c': { x: 'y' } });
  const oldDocument = (): JsonNode => readJsonBinary(new ByteReader(beforeBytes), beforeBytes.length);

  test('REPLACE, INSERT (array position and a new key in sorted place) and REMOVE apply like the server', () => {
    const bytes = encodeDiffs([
      { op: 0, path: '$.a', value: 'new' },
      { op: 1, path: '$.list[1]', value: 9 },
      { op: 1, path: '$.list[last]', value: true },
      { op: 1, path: '$.zz', value: null },
      { op: 1, path: '$.b', value: [] },
      { op: 2, path: '$."b c".x' },
      { op: 2, path: '$.list[0]' },
    ]);
    const diffs = readJsonDiffs(new ByteReader(bytes), bytes.length);
    const applied = applyJsonDiffs(oldDocument(), diffs);
    expect(applied === undefined ? undefined : jsonText(applied)).toBe(
      '{"a": "new", "b": [], "zz": null, "b c": {}, "list": [9, 2, true, 3]}',
    );
  });

  test('a path that does not fit the document leaves the result unknown', () => {
    const bytes = encodeDiffs([{ op: 0, path: '$.missing', value: 1 }]);
    const diffs = readJsonDiffs(new ByteReader(bytes), bytes.length);
    expect(applyJsonDiffs(oldDocument(), diffs)).toBeUndefined();
  });

  test('PARTIAL_UPDATE_ROWS: applied to a full before image, explicit without one', () => {
    const columns: ColumnDef[] = [
      { type: ColumnType.LONG, meta: 0, nullable: false },
      { type: ColumnType.JSON, meta: 4, nullable: true },
    ];
    const table: TableMap = { tableId: 1, database: 'd', table: 't', columns };
    const doc = encodeJson({ age: 24, name: 'Joe' });
    const diffs = encodeDiffs([{ op: 0, path: '$.age', value: 25 }]);
    const u32 = (n: number): Buffer => {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(n);
      return b;
    };
    const all = new Bitmap(Uint8Array.from([0b11]), 2);
    const idOnly = new Bitmap(Uint8Array.from([0b01]), 2);
    // before: nulls, id, json; after: value_options=1, partial bits (1 JSON column), nulls, id, diffs
    const full = Buffer.concat([
      Buffer.from([0]),
      u32(7),
      u32(doc.length),
      doc,
      Buffer.from([1, 0b1, 0]),
      u32(7),
      u32(diffs.length),
      diffs,
    ]);
    const [row] = decodeRows(new ByteReader(full), table, {
      op: 'update',
      partial: true,
      present: all,
      presentAfter: all,
    });
    expect(row?.after).toEqual([7, '{"age": 25, "name": "Joe"}']);
    expect(row?.before).toEqual([7, '{"age": 24, "name": "Joe"}']);

    const minimal = Buffer.concat([
      Buffer.from([0]),
      u32(7),
      Buffer.from([1, 0b1, 0]),
      u32(diffs.length),
      diffs,
    ]);
    const [only] = decodeRows(new ByteReader(minimal), table, {
      op: 'update',
      partial: true,
      present: idOnly,
      presentAfter: new Bitmap(Uint8Array.from([0b10]), 2),
    });
    expect(only?.after).toEqual([
      undefined,
      { kind: 'json-diff', diffs: [{ operation: 'replace', path: '$.age', value: '25' }] },
    ]);

    // value_options 0: a whole document, no partial bits.
    const whole = Buffer.concat([
      Buffer.from([0]),
      u32(7),
      Buffer.from([0, 0]),
      u32(7),
      u32(doc.length),
      doc,
    ]);
    const [plain] = decodeRows(new ByteReader(whole), table, {
      op: 'update',
      partial: true,
      present: idOnly,
      presentAfter: all,
    });
    expect(plain?.after).toEqual([7, '{"age": 24, "name": "Joe"}']);
  });
});

describe('DECIMAL bytes', () => {
  const decimal = (bytes: number[], precision: number, scale: number): string =>
    readDecimal(new ByteReader(Buffer.from(bytes)), precision, scale);

  test('negative numbers below one keep their sign; a stored negative zero is zero', () => {
    expect(decimal([0x80, 0x05], 4, 2)).toBe('0.05');
    expect(decimal([0x7f, 0xfa], 4, 2)).toBe('-0.05');
    expect(decimal([0x7f, 0xff], 4, 2)).toBe('0.00');
    expect(decimal([0x80, 0x00, 0x00, 0x00, 0x00], 10, 0)).toBe('0');
    expect(decimal([0x7f, 0xff, 0xff, 0xff, 0xfe], 10, 0)).toBe('-1');
  });

  test('an impossible digit group is a typed error', () => {
    expect(() => decimal([0x80 | 0x7f, 0xff], 4, 2)).toThrow(/invalid digit group/);
  });
});

describe('text by collation', () => {
  const b = (...bytes: number[]): Buffer => Buffer.from(bytes);

  test('utf8mb4, latin1 (cp1252 high bytes), utf16/ucs2/utf32; invalid, binary and unknown keep bytes', () => {
    expect(decodeText(Buffer.from('😀é'), 45)).toBe('😀é');
    expect(decodeText(b(0x80, 0x8a, 0x81, 0xff, 0x41), 8)).toBe('€Š\u0081ÿA');
    expect(decodeText(b(0xd8, 0x3d, 0xde, 0x00), 54)).toBe('😀');
    expect(decodeText(b(0x00, 0x41), 35)).toBe('A');
    expect(decodeText(b(0x00, 0x01, 0xf6, 0x00), 60)).toBe('😀');
    expect(decodeText(b(0xff, 0xfe), 45)).toEqual(Uint8Array.from([0xff, 0xfe]));
    expect(decodeText(b(0x41), 63)).toEqual(Uint8Array.from([0x41]));
    expect(decodeText(b(0x41), 9999)).toEqual(Uint8Array.from([0x41]));
    expect(decodeText(b(0x41), undefined)).toEqual(Uint8Array.from([0x41]));
  });
});

describe('ENUM and SET', () => {
  const read = (bytes: number[], column: Partial<ColumnDef>): unknown =>
    decodeValue(new ByteReader(Buffer.from(bytes)), {
      type: ColumnType.STRING,
      meta: 0,
      nullable: true,
      ...column,
    });

  test('names when known, the number when a member is outside the list or names are missing', () => {
    const e = { meta: (ColumnType.ENUM << 8) | 1, enumValues: ['a', 'b'] };
    expect(read([2], e)).toBe('b');
    expect(read([0], e)).toBe('');
    expect(read([3], e)).toBe(3);
    expect(read([2], { meta: e.meta })).toBe(2);
    const s = { meta: (ColumnType.SET << 8) | 1, setValues: ['x', 'y', 'z'] };
    expect(read([0b101], s)).toBe('x,z');
    expect(read([0b1001], s)).toBe(9);
    expect(read([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], { meta: (ColumnType.SET << 8) | 8 })).toBe(
      18446744073709551615n,
    );
  });
});

describe('--json value encoding', () => {
  test('each kind of value', () => {
    expect(valueToJson(null)).toBeNull();
    expect(valueToJson(undefined)).toBeUndefined();
    expect(valueToJson(-5)).toBe(-5);
    expect(valueToJson(2.5)).toBe(2.5);
    expect(valueToJson(9007199254740993n)).toBe('9007199254740993');
    expect(valueToJson('2024-01-01 00:00:00.000001')).toBe('2024-01-01 00:00:00.000001');
    expect(valueToJson(Uint8Array.from([0, 15, 255]))).toEqual({ hex: '000fff' });
    const diff = { kind: 'json-diff', diffs: [{ operation: 'remove', path: '$.a' }] } as const;
    expect(valueToJson(diff)).toEqual({ jsonDiff: [{ operation: 'remove', path: '$.a' }] });
  });

  test('hex of short (table) and long (native) byte strings', () => {
    for (const length of [0, 1, 47, 48, 1000]) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 37) & 0xff);
      expect(toHex(bytes)).toBe(Buffer.from(bytes).toString('hex'));
    }
    const view = new Uint8Array(Buffer.from('00112233', 'hex').buffer, 0, 4);
    expect(toHex(view.subarray(1, 3))).toBe(Buffer.from(view.subarray(1, 3)).toString('hex'));
  });
});

describe('MariaDB compressed columns', () => {
  // Row bytes a MariaDB 10.11 server wrote for VARCHAR(1000) COMPRESSED (latin1), BLOB COMPRESSED, TEXT COMPRESSED (utf8mb4).
  const read = (hex: string, column: ColumnDef): unknown =>
    decodeValue(new ByteReader(Buffer.from(hex, 'hex')), column);

  test('raw-deflate values, values stored uncompressed behind a 0 header, and empty values', () => {
    const varchar = { type: 141, meta: 1001, nullable: true, charset: 8 };
    const blob = { type: 140, meta: 2, nullable: true, charset: 63 };
    const text = { type: 140, meta: 2, nullable: true, charset: 45 };
    expect(read('0c008a012c4b4c4a4e1c45c42100', varchar)).toBe('abc'.repeat(100));
    expect(read('0b008a01f4aba81805230d0000', blob)).toEqual(new Uint8Array(Buffer.from('x'.repeat(500))));
    expect(read('070000c3a9f09f9880', text)).toBe('é😀');
    expect(read('02000061', varchar)).toBe('a');
    expect(read('0000', blob)).toEqual(new Uint8Array(0));
    expect(() => read('03008a0100', varchar)).toThrow(/does not inflate|ends early/);
  });
});

describe('facts from the live schema', () => {
  const shape = (
    columns: { name: string; dataType: string; columnType: string; charset?: string }[],
  ): TableShape => ({
    schema: 'd',
    table: 't',
    columns: columns.map((c, i) => ({
      ...c,
      ordinal: i + 1,
      unsigned: /unsigned/.test(c.columnType),
      nullable: true,
      charset: c.charset,
      generated: false,
    })),
    primaryKey: [],
    uniqueKeys: [],
  });
  const table: TableMapDetails = {
    tableId: 1,
    database: 'd',
    table: 't',
    flags: 0,
    optionalMetadata: [],
    columns: [
      { type: ColumnType.LONG, meta: 0, nullable: true },
      { type: ColumnType.STRING, meta: (ColumnType.ENUM << 8) | 1, nullable: true },
      { type: ColumnType.VARCHAR, meta: 40, nullable: true, name: 'from_binlog', charset: 8 },
    ],
  };

  test('fills names, signedness, charsets and members; the binlog wins where it has them', () => {
    const live = shape([
      { name: 'n', dataType: 'int', columnType: 'int(10) unsigned' },
      { name: 'e', dataType: 'enum', columnType: "enum('a','it''s','x,y')", charset: 'utf8mb4' },
      { name: 'v', dataType: 'varchar', columnType: 'varchar(10)', charset: 'utf8' },
    ]);
    const filled = withLiveSchema(table, live);
    expect(filled.columns.map((c) => [c.name, c.unsigned, c.charset, c.enumValues])).toEqual([
      ['n', true, undefined, undefined],
      ['e', undefined, 45, ['a', "it's", 'x,y']],
      ['from_binlog', undefined, 8, undefined],
    ]);
  });

  test('a table altered since the binlog is refused', () => {
    const live = shape([
      { name: 'n', dataType: 'bigint', columnType: 'bigint(20)' },
      { name: 'e', dataType: 'enum', columnType: "enum('a')" },
      { name: 'v', dataType: 'varchar', columnType: 'varchar(10)' },
    ]);
    expect(() => withLiveSchema(table, live)).toThrow(/altered since/);
    expect(() => withLiveSchema(table, shape([]))).toThrow(/altered since/);
  });
});
