/**
 * Every column type family with extreme and edge values, written by a real
 * MariaDB server, read back from its binlog and compared value by value with
 * what the same server returns for the same rows — with row metadata FULL,
 * MINIMAL and NO_LOG (one sandbox each; NO_LOG decoded with the live
 * schema's facts) and row images FULL, MINIMAL and NOBLOB (one database
 * each, the image chosen per session).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decodeEvents } from '../../../src/binlog/event-stream.js';
import { rowsReader } from '../../../src/binlog/events/rows-event.js';
import { decodeRows, type RowImages } from '../../../src/binlog/rows.js';
import { readBinlogFiles } from '../../../src/binlog/sources/files.js';
import { ColumnType, type RowImage, type TableMapDetails, type Value } from '../../../src/binlog/types.js';
import { MariadbCompressedType } from '../../../src/binlog/values/compressed-column.js';
import { withLiveSchema } from '../../../src/binlog/values/live-schema.js';
import { describeTable, type TableShape } from '../../../src/mysql/index.js';
import { connect, type Sandbox, startSandbox } from '../../support/sandbox.js';

/** How the server's text for a column is produced, and how a decoded value is compared with it. */
type Family =
  | 'int'
  | 'decimal'
  | 'float'
  | 'double'
  | 'bit'
  | 'year'
  | 'temporal'
  | 'text'
  | 'bytes'
  | 'enum';

interface Column {
  readonly name: string;
  readonly sql: string;
  readonly family: Family;
}

interface TableSpec {
  readonly name: string;
  readonly columns: readonly Column[];
  /** Rows as SQL value lists (ids first); `?` placeholders take `params`. */
  readonly rows: readonly string[];
  readonly params?: readonly unknown[];
  /** One UPDATE per entry: the SET clause and the ids it touches. */
  readonly updates: readonly { readonly set: Record<string, string>; readonly ids: readonly number[] }[];
  readonly deleteIds: readonly number[];
}

const col = (name: string, sql: string, family: Family): Column => ({ name, sql, family });
const enumMembers = (n: number, prefix: string): string =>
  Array.from({ length: n }, (_, i) => `'${prefix}${i}'`).join(',');
const bigBlob = randomBytes(3 * 1024 * 1024);
const tinyBlob = randomBytes(255);

const TABLES: readonly TableSpec[] = [
  {
    name: 'ints',
    columns: [
      col('ti', 'TINYINT', 'int'),
      col('tu', 'TINYINT UNSIGNED', 'int'),
      col('si', 'SMALLINT', 'int'),
      col('su', 'SMALLINT UNSIGNED', 'int'),
      col('mi', 'MEDIUMINT', 'int'),
      col('mu', 'MEDIUMINT UNSIGNED', 'int'),
      col('i', 'INT', 'int'),
      col('iu', 'INT UNSIGNED', 'int'),
      col('bi', 'BIGINT', 'int'),
      col('bu', 'BIGINT UNSIGNED', 'int'),
    ],
    rows: [
      '1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0',
      '2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615',
      '3, -1, 1, -1, 1, -1, 1, -1, 1, 9007199254740991, 9007199254740992',
      '4, 0, 128, 0, 32768, 0, 8388608, 0, 2147483648, -9007199254740991, 9223372036854775808',
      '5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, -9007199254740992, NULL',
    ],
    updates: [{ set: { bu: '12345', i: '-7' }, ids: [1, 2] }],
    deleteIds: [3, 5],
  },
  {
    name: 'decimals',
    columns: [
      col('d65', 'DECIMAL(65,30)', 'decimal'),
      col('d10', 'DECIMAL(10,0)', 'decimal'),
      col('d5', 'DECIMAL(5,5)', 'decimal'),
      col('d18', 'DECIMAL(18,9)', 'decimal'),
      col('d4', 'DECIMAL(4,2) UNSIGNED', 'decimal'),
      col('d20', 'DECIMAL(20,10)', 'decimal'),
    ],
    rows: [
      `1, 99999999999999999999999999999999999.999999999999999999999999999999, 9999999999, 0.99999, 999999999.999999999, 99.99, 1234567890.0123456789`,
      `2, -99999999999999999999999999999999999.999999999999999999999999999999, -9999999999, -0.99999, -999999999.999999999, 0, -1234567890.0123456789`,
      `3, -0.000000000000000000000000000001, -0, -0.00001, -0.000000001, 0.01, -0.0000000001`,
      `4, '-0.00', 0, 0, 0, 0.10, 1000000000`,
      `5, 10000000000000000000000000000000000, 1, 0.5, 100000000, 10, -0.5`,
      `6, NULL, NULL, NULL, NULL, NULL, NULL`,
    ],
    updates: [{ set: { d5: '-0.5', d65: '-1.5' }, ids: [1, 4] }],
    deleteIds: [2],
  },
  {
    name: 'floats',
    columns: [col('f', 'FLOAT', 'float'), col('d', 'DOUBLE', 'double')],
    rows: [
      '1, 3.4028234e38, 1.7976931348623157e308',
      '2, -3.4028234e38, -1.7976931348623157e308',
      '3, 1.17549435e-38, 4.9e-324',
      '4, -0e0, -0e0',
      '5, 0.1, 0.1',
      '6, 16777217, 2.2250738585072014e-308',
      '7, -1.5e-45, 123456789.123456789',
      '8, NULL, NULL',
    ],
    updates: [{ set: { f: '-2.5' }, ids: [5, 8] }],
    deleteIds: [1],
  },
  {
    name: 'bits',
    columns: [
      col('b1', 'BIT(1)', 'bit'),
      col('b7', 'BIT(7)', 'bit'),
      col('b8', 'BIT(8)', 'bit'),
      col('b9', 'BIT(9)', 'bit'),
      col('b33', 'BIT(33)', 'bit'),
      col('b64', 'BIT(64)', 'bit'),
    ],
    rows: [
      "1, b'1', b'1111111', b'11111111', b'111111111', b'111111111111111111111111111111111', 0xFFFFFFFFFFFFFFFF",
      '2, 0, 0, 0, 0, 0, 0',
      "3, b'0', b'1000001', b'10000000', b'100000000', b'100000000000000000000000000000001', 0x8000000000000001",
      '4, NULL, NULL, NULL, NULL, NULL, NULL',
    ],
    updates: [{ set: { b9: "b'100000001'" }, ids: [2] }],
    deleteIds: [4],
  },
  {
    name: 'temporal',
    columns: [
      col('y', 'YEAR', 'year'),
      col('dt', 'DATE', 'temporal'),
      col('t0', 'TIME', 'temporal'),
      col('t1', 'TIME(1)', 'temporal'),
      col('t3', 'TIME(3)', 'temporal'),
      col('t6', 'TIME(6)', 'temporal'),
      col('dtm0', 'DATETIME', 'temporal'),
      col('dtm2', 'DATETIME(2)', 'temporal'),
      col('dtm6', 'DATETIME(6)', 'temporal'),
      col('ts0', 'TIMESTAMP NULL DEFAULT NULL', 'temporal'),
      col('ts6', 'TIMESTAMP(6) NULL DEFAULT NULL', 'temporal'),
    ],
    rows: [
      "1, 1901, '1000-01-01', '-838:59:59', '-00:00:00.5', '-838:59:58.999', '-00:00:00.000001', '1000-01-01 00:00:00', '2024-02-29 12:00:00.01', '9999-12-31 23:59:59.999999', '1970-01-01 00:00:01', '2038-01-19 03:14:07.999999'",
      "2, 2155, '9999-12-31', '838:59:59', '838:59:59.9', '838:59:59.999', '-12:34:56.789012', '9999-12-31 23:59:59', '0001-01-01 00:00:00.99', '0000-00-00 00:00:00.000000', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000000'",
      "3, 0, '0000-00-00', '00:00:00', '00:00:00.0', '-00:00:01.001', '23:59:59.999999', '0000-00-00 00:00:00', '2024-00-15 10:00:00.50', '2024-02-00 00:00:00.000001', '2001-09-09 01:46:40', '2024-06-01 12:34:56.123456'",
      "4, 2000, '2024-00-15', '-01:00:00', '-838:59:59.0', '00:00:00.001', '-838:59:59.000000', '2024-02-00 10:00:00', '1999-12-31 23:59:59.99', '2000-01-01 00:00:00.100000', '2020-02-29 23:59:59', '1970-01-01 00:00:01.000001'",
      '5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL',
    ],
    updates: [{ set: { t6: "'-01:02:03.000004'", ts6: "'2030-01-01 00:00:00.5'" }, ids: [1, 5] }],
    deleteIds: [2],
  },
  {
    name: 'strings',
    columns: [
      col('c10', 'CHAR(10) CHARACTER SET utf8mb4', 'text'),
      col('v300', 'VARCHAR(300) CHARACTER SET utf8mb4', 'text'),
      col('v20', 'VARCHAR(20) CHARACTER SET utf8mb4', 'text'),
      col('c255', 'CHAR(255) CHARACTER SET utf8mb4', 'text'),
      col('cl', 'CHAR(100) CHARACTER SET latin1', 'text'),
      col('vl', 'VARCHAR(10) CHARACTER SET latin1', 'text'),
      col('va', 'VARCHAR(5) CHARACTER SET ascii', 'text'),
      col('v16', 'VARCHAR(10) CHARACTER SET utf16', 'text'),
      col('c32', 'CHAR(3) CHARACTER SET utf32', 'text'),
      col('vu', 'VARCHAR(5) CHARACTER SET ucs2', 'text'),
      col('v3', 'VARCHAR(10) CHARACTER SET utf8mb3', 'text'),
    ],
    rows: [
      "1, '😀🎉', REPEAT('é', 300), 'ab  ', REPEAT('😀', 255), '€ÿ', 'ŠŽšžŸ', 'abc', '😀x', '😀ab', 'ÿĀ', 'ñ'",
      "2, 'ab  ', 'trailing  ', '', ' lead', 'x', '', '', '', '', '', ''",
      "3, '中文', REPEAT('x', 300), 'e\u0301', '字', CONCAT(CHAR(0x81), CHAR(0x8D), CHAR(0x9D), CHAR(0xA0)), 'a\\\\b', 'q\"', 'ñ', 'a', 'z', 'ab\\'c'",
      '4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL',
    ],
    updates: [{ set: { v20: "'x'" }, ids: [1, 4] }],
    deleteIds: [3],
  },
  {
    name: 'binaries',
    columns: [
      col('b4', 'BINARY(4)', 'bytes'),
      col('vb', 'VARBINARY(10)', 'bytes'),
      col('b255', 'BINARY(255)', 'bytes'),
    ],
    rows: [
      "1, 0x00010200, 0x0100, 'a'",
      "2, 'a', '', 0x00",
      '3, 0x00000000, 0x00000000, 0xFF',
      '4, NULL, NULL, NULL',
    ],
    updates: [{ set: { vb: '0xff' }, ids: [2, 3] }],
    deleteIds: [1],
  },
  {
    name: 'blobs',
    columns: [
      col('tb', 'TINYBLOB', 'bytes'),
      col('bb', 'BLOB', 'bytes'),
      col('mb', 'MEDIUMBLOB', 'bytes'),
      col('lb', 'LONGBLOB', 'bytes'),
      col('tt', 'TINYTEXT CHARACTER SET utf8mb4', 'text'),
      col('tx', 'TEXT CHARACTER SET utf8mb4', 'text'),
      col('mt', 'MEDIUMTEXT CHARACTER SET utf8mb4', 'text'),
      col('lt', 'LONGTEXT CHARACTER SET latin1', 'text'),
      col('small', 'INT', 'int'),
    ],
    rows: [
      "1, ?, 0x00FF00, '', ?, '😀', REPEAT('a', 65535), REPEAT('é', 40000), 'Ææ', 1",
      "2, '', '', 0x01, '', '', '', '', '', 2",
      '3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL',
    ],
    params: [tinyBlob, bigBlob],
    updates: [
      { set: { small: 'small + 10' }, ids: [1, 2] },
      { set: { tx: "'changed 😀'" }, ids: [2] },
    ],
    deleteIds: [1],
  },
  {
    name: 'enumset',
    columns: [
      col('e', "ENUM('a','b','ç','😀')", 'enum'),
      col('e300', `ENUM(${enumMembers(300, 'm')})`, 'enum'),
      col('s', "SET('x','y','z')", 'enum'),
      col('s64', `SET(${enumMembers(64, 's')})`, 'enum'),
    ],
    rows: [
      "1, 'ç', 'm299', 'x,z', 's0,s63'",
      "2, '😀', 'm0', '', 's1,s2,s3,s53'",
      `3, 'a', 'm255', 'x,y,z', '${Array.from({ length: 64 }, (_, i) => `s${i}`).join(',')}'`,
      '4, NULL, NULL, NULL, NULL',
    ],
    updates: [{ set: { s: "'y'" }, ids: [1] }],
    deleteIds: [2],
  },
  {
    name: 'geometry',
    columns: [col('g', 'GEOMETRY', 'bytes'), col('p', 'POINT', 'bytes'), col('pg', 'POLYGON', 'bytes')],
    rows: [
      "1, ST_GeomFromText('POINT(1 2)'), ST_GeomFromText('POINT(-1.5 1e300)', 4326), ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0),(2 2,3 2,3 3,2 2))')",
      "2, ST_GeomFromText('LINESTRING(0 0,1 1,2 0)'), ST_GeomFromText('POINT(0 0)'), NULL",
    ],
    updates: [{ set: { p: "ST_GeomFromText('POINT(7 8)')" }, ids: [2] }],
    deleteIds: [1],
  },
  {
    name: 'json',
    columns: [col('j', 'JSON', 'text')],
    rows: [`1, '{"a": [1, 2.5, "😀"], "b": null, "c": {"d": true}}'`, "2, '[]'", '3, NULL'],
    updates: [{ set: { j: `JSON_SET(j, '$.b', 'x')` }, ids: [1] }],
    deleteIds: [2],
  },
  {
    name: 'compressed',
    columns: [
      col('vc', 'VARCHAR(1000) CHARACTER SET latin1 COMPRESSED', 'text'),
      col('bc', 'BLOB COMPRESSED', 'bytes'),
      col('tc', 'TEXT CHARACTER SET utf8mb4 COMPRESSED', 'text'),
      col('n', 'INT', 'int'),
    ],
    rows: [
      "1, REPEAT('abc', 100), REPEAT('x', 500), 'é😀', 1",
      "2, 'a', '', NULL, 2",
      "3, '', 'y', REPEAT('z', 2000), 3",
    ],
    updates: [{ set: { n: '7', tc: "'é'" }, ids: [1, 3] }],
    deleteIds: [2],
  },
];

const IMAGES = ['FULL', 'MINIMAL', 'NOBLOB'] as const;
type Image = (typeof IMAGES)[number];

/** The server's text for a column, chosen so it can be compared exactly with a decoded value. */
function serverExpression(c: Column): string {
  const q = `\`${c.name}\``;
  switch (c.family) {
    case 'float':
      // The exact double of the stored float (the plain column prints only 6 digits).
      return `CAST(CAST(${q} AS DOUBLE) AS CHAR)`;
    case 'bit':
      return `CAST(CAST(${q} AS UNSIGNED) AS CHAR)`;
    case 'text':
      return `HEX(CONVERT(${q} USING utf8mb4))`;
    case 'bytes':
      return `HEX(${q})`;
    case 'enum':
      return `CONCAT(${q}, '|', ${q} + 0)`;
    default:
      return `CAST(${q} AS CHAR)`;
  }
}

/** Whether a decoded value denotes what the server printed; the reason when it does not. */
function mismatch(
  c: Column,
  decoded: Value | undefined,
  server: string | null,
  metadata: string,
): string | undefined {
  if (server === null) return decoded === null ? undefined : `expected NULL`;
  if (decoded === null || decoded === undefined) return `decoded ${String(decoded)}`;
  const hex = (v: Value): string | undefined =>
    v instanceof Uint8Array ? Buffer.from(v).toString('hex').toUpperCase() : undefined;
  switch (c.family) {
    case 'int':
      return typeof decoded === 'number' || typeof decoded === 'bigint'
        ? String(decoded) === server
          ? undefined
          : 'differs'
        : 'not an integer';
    case 'decimal':
    case 'temporal':
      return decoded === server ? undefined : 'differs';
    case 'year':
      return typeof decoded === 'number' && String(decoded).padStart(4, '0') === server
        ? undefined
        : 'differs';
    case 'float':
      // MariaDB prints -0 as 0; the comparison is numeric.
      return typeof decoded === 'number' && Math.fround(decoded) === Math.fround(Number(server))
        ? undefined
        : 'differs';
    case 'double':
      return typeof decoded === 'number' && decoded === Number(server) ? undefined : 'differs';
    case 'bit':
      return BigInt(`0x${hex(decoded) || '0'}`).toString() === server ? undefined : 'differs';
    case 'bytes':
      return hex(decoded) === server ? undefined : 'differs';
    case 'text':
      if (typeof decoded !== 'string') return 'text decoded as bytes';
      return Buffer.from(decoded, 'utf8').toString('hex').toUpperCase() === server ? undefined : 'differs';
    case 'enum': {
      const [names, number] = server.split('|');
      if (metadata === 'FULL') return decoded === names ? undefined : 'differs (names expected)';
      // `set + 0` is a signed BIGINT: a 64-member SET with the last member set prints negative.
      return typeof decoded === 'number' || typeof decoded === 'bigint'
        ? BigInt(decoded) === BigInt.asUintN(64, BigInt(number ?? 'x'))
          ? undefined
          : 'differs'
        : decoded === names
          ? undefined
          : 'differs';
    }
  }
}

/** Server texts of a table's rows by id. */
type Snapshot = Map<number, (string | null)[]>;

async function snapshot(connection: Connection, database: string, table: TableSpec): Promise<Snapshot> {
  const expressions = table.columns.map(serverExpression).join(', ');
  const [rows] = await connection.query(
    `SELECT id, ${expressions} FROM \`${database}\`.\`${table.name}\` ORDER BY id`,
  );
  const byId: Snapshot = new Map();
  for (const row of rows as Record<string, unknown>[]) {
    const values = Object.values(row);
    byId.set(Number(values[0]), values.slice(1) as (string | null)[]);
  }
  return byId;
}

/** Per table: the rows after the inserts, then after each update statement. */
type Workload = Map<string, Snapshot[]>;

/** Creates the tables in `database` and runs inserts, updates and deletes with the given row image. */
async function runWorkload(sandbox: Sandbox, database: string, image: Image): Promise<Workload> {
  const connection = await connect(sandbox);
  const states: Workload = new Map();
  try {
    await connection.query(
      `SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION', time_zone = '+00:00', binlog_row_image = '${image}'`,
    );
    await connection.query(`CREATE DATABASE \`${database}\``);
    for (const table of TABLES) {
      const columns = table.columns.map((c) => `\`${c.name}\` ${c.sql}`).join(', ');
      const name = `\`${database}\`.\`${table.name}\``;
      await connection.query(
        `CREATE TABLE ${name} (id INT PRIMARY KEY, ${columns}) DEFAULT CHARSET = utf8mb4`,
      );
      for (const row of table.rows) {
        const params = row.includes('?') ? [...(table.params ?? [])] : [];
        await connection.query(`INSERT INTO ${name} VALUES (${row})`, params);
      }
      const tableStates = [await snapshot(connection, database, table)];
      for (const update of table.updates) {
        const set = Object.entries(update.set)
          .map(([column, expr]) => `\`${column}\` = ${expr}`)
          .join(', ');
        await connection.query(`UPDATE ${name} SET ${set} WHERE id IN (${update.ids.join(',')})`);
        tableStates.push(await snapshot(connection, database, table));
      }
      await connection.query(`DELETE FROM ${name} WHERE id IN (${table.deleteIds.join(',')})`);
      states.set(table.name, tableStates);
    }
    return states;
  } finally {
    await connection.end();
  }
}

interface DecodedChange {
  readonly op: string;
  readonly table: TableMapDetails;
  readonly rows: RowImages[];
}

/** The sandbox's binlog decoded; with `liveSchema`, tables get the facts the binlog lacks from the server. */
async function decodeBinlog(sandbox: Sandbox, liveSchema: boolean): Promise<DecodedChange[]> {
  const out: DecodedChange[] = [];
  const connection = await connect(sandbox);
  const shapes = new Map<string, TableShape | undefined>();
  try {
    for await (const event of decodeEvents(readBinlogFiles({ dir: join(sandbox.dir, 'binlog') }))) {
      if (event.kind !== 'rows' || event.table === undefined) continue;
      let table = event.table;
      if (liveSchema) {
        const key = `${table.database}.${table.table}`;
        if (!shapes.has(key)) shapes.set(key, await describeTable(connection, table.database, table.table));
        table = withLiveSchema(table, shapes.get(key) as TableShape);
      }
      const context = { file: event.header.file, position: event.header.position };
      out.push({ op: event.op, table, rows: decodeRows(rowsReader(event, context), table, event) });
    }
  } finally {
    await connection.end();
  }
  return out;
}

/** NOBLOB leaves out BLOB/TEXT (and MariaDB's JSON, a LONGTEXT) but keeps GEOMETRY. */
const isBlobColumn = (table: TableMapDetails, index: number): boolean => {
  const type = table.columns[index]?.type;
  return type === ColumnType.BLOB || type === MariadbCompressedType.BLOB;
};

/** Which columns (by table index, id = 0) an image must hold under a row-image mode. */
function expectedPresence(
  table: TableMapDetails,
  image: Image,
  kind: 'insert' | 'before' | 'after',
  updated: readonly string[],
  spec: TableSpec,
): boolean[] {
  return table.columns.map((_, i) => {
    const name = i === 0 ? 'id' : (spec.columns[i - 1]?.name as string);
    if (image === 'FULL') return true;
    if (image === 'MINIMAL') {
      if (kind === 'insert') return true;
      return kind === 'before' ? i === 0 : updated.includes(name);
    }
    // NOBLOB: every column but the blobs, plus blobs an update assigns.
    if (!isBlobColumn(table, i)) return true;
    return kind === 'insert' || (kind === 'after' && updated.includes(name));
  });
}

// NO_LOG (MariaDB's default) has no signedness, charsets or names: they come from the live schema.
for (const metadata of ['FULL', 'MINIMAL', 'NO_LOG'] as const) {
  describe(`MariaDB binlog_row_metadata=${metadata}`, () => {
    let sandbox: Sandbox;
    const workloads = new Map<Image, Workload>();
    let changes: DecodedChange[] = [];

    beforeAll(async () => {
      sandbox = await startSandbox({
        serverOptions: { binlog_row_metadata: metadata, max_allowed_packet: '64M' },
      });
      for (const image of IMAGES)
        workloads.set(image, await runWorkload(sandbox, `v_${image.toLowerCase()}`, image));
      changes = await decodeBinlog(sandbox, metadata === 'NO_LOG');
    }, 240_000);

    afterAll(async () => {
      await sandbox?.destroy();
    });

    for (const image of IMAGES) {
      test(`row image ${image}: every decoded value equals the server's`, () => {
        const workload = workloads.get(image) as Workload;
        const database = `v_${image.toLowerCase()}`;
        const problems: string[] = [];
        let compared = 0;
        for (const spec of TABLES) {
          const mine = changes.filter((c) => c.table.database === database && c.table.table === spec.name);
          const inserts = mine.filter((c) => c.op === 'insert').flatMap((c) => c.rows);
          // A statement's rows may span several events (a 3 MB row does), so rows are taken in statement order.
          const updateRows = mine.filter((c) => c.op === 'update').flatMap((c) => c.rows);
          const deletes = mine.filter((c) => c.op === 'delete').flatMap((c) => c.rows);
          expect(inserts, `${spec.name} inserts`).toHaveLength(spec.rows.length);
          expect(deletes, `${spec.name} deletes`).toHaveLength(spec.deleteIds.length);
          expect(updateRows, `${spec.name} updated rows`).toHaveLength(
            spec.updates.reduce((n, u) => n + u.ids.length, 0),
          );
          const table = mine[0]?.table as TableMapDetails;
          if (metadata === 'NO_LOG' && spec.name === 'enumset') {
            // Members from the live schema, except e's: information_schema shows its emoji member as '?'.
            expect(inserts.map((r) => [typeof r.after?.[1], typeof r.after?.[2]])).toEqual(
              inserts.map((r) => (r.after?.[1] === null ? ['object', 'object'] : ['number', 'string'])),
            );
          }
          if (metadata !== 'MINIMAL')
            expect(table.columns.map((c) => c.name)).toEqual(['id', ...spec.columns.map((c) => c.name)]);
          else expect(table.columns.every((c) => c.name === undefined)).toBe(true);

          const check = (
            label: string,
            image_: RowImage | undefined,
            expected: Snapshot | undefined,
            kind: 'insert' | 'before' | 'after',
            updated: readonly string[],
            id: number,
          ): void => {
            if (image_ === undefined) {
              problems.push(`${spec.name} ${label}: no image`);
              return;
            }
            const presence = expectedPresence(table, image, kind, updated, spec);
            const server = expected?.get(id);
            if (server === undefined) {
              problems.push(`${spec.name} ${label}: id ${id} not on the server`);
              return;
            }
            image_.forEach((value, i) => {
              const name = i === 0 ? 'id' : (spec.columns[i - 1]?.name as string);
              if ((value !== undefined) !== presence[i]) {
                problems.push(
                  `${spec.name}#${id}.${name} ${label}: present=${value !== undefined}, expected ${presence[i]}`,
                );
                return;
              }
              if (value === undefined) return;
              compared++;
              if (i === 0) {
                if (value !== id)
                  problems.push(`${spec.name}#${id} ${label}: id decoded as ${String(value)}`);
                return;
              }
              const c = spec.columns[i - 1] as Column;
              const why = mismatch(c, value, server[i - 1] ?? null, metadata);
              if (why !== undefined) {
                const shown =
                  value instanceof Uint8Array
                    ? `0x${Buffer.from(value).toString('hex').slice(0, 80)}`
                    : String(value).slice(0, 80);
                problems.push(
                  `${spec.name}#${id}.${name} ${label}: ${why}: decoded ${shown}, server ${String(server[i - 1]).slice(0, 80)}`,
                );
              }
            });
          };

          const states = workload.get(spec.name) ?? [];
          for (const row of inserts)
            check('insert', row.after, states[0], 'insert', [], row.after?.[0] as number);
          let taken = 0;
          spec.updates.forEach((update, n) => {
            const updated = Object.keys(update.set);
            const rows = updateRows.slice(taken, taken + update.ids.length);
            taken += update.ids.length;
            expect(rows.map((r) => r.before?.[0])).toEqual(update.ids);
            for (const row of rows) {
              const id = row.before?.[0] as number;
              check('before', row.before, states[n], 'before', updated, id);
              check('after', row.after, states[n + 1], 'after', updated, id);
            }
          });
          for (const row of deletes)
            check('delete', row.before, states.at(-1), 'before', [], row.before?.[0] as number);
        }
        expect(problems).toEqual([]);
        expect(compared).toBeGreaterThan(100);
      });
    }
  });
}
