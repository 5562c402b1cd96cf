import { beforeAll, describe, expect, it } from 'vitest';
import { describeTable } from '../../src/mysql/index.js';
import { rowHashSql } from '../../src/verify/row-hash.js';
import { connect, type Sandbox, sql, startSandbox } from '../support/sandbox.js';

let server: Sandbox;

beforeAll(async () => {
  server = await startSandbox({ binlog: false });
  await sql(
    server,
    `CREATE DATABASE h;
     CREATE TABLE h.d (id INT PRIMARY KEY, x DOUBLE NULL, f FLOAT NULL);
     INSERT INTO h.d VALUES (1, 0.1, 0.1), (2, -0.0, 0), (3, 1e300, 3.4e38), (4, 4.9e-324, 1e-45),
       (5, 123456789.12345679, 1.5), (6, -2.5, -2.5), (7, 0.30000000000000004, 16777217), (8, 2, 1024);
     CREATE TABLE h.s (id INT PRIMARY KEY, a VARCHAR(10) NULL, b VARCHAR(10) NULL);
     INSERT INTO h.s VALUES (1, '', NULL), (2, NULL, ''), (3, 'x#', 'y'), (4, 'x', '#y'), (5, NULL, NULL), (6, '', '');`,
  );
});

/** The exact rendering used for doubles, decoded back: mantissa × 2^exponent. */
function decode(text: string): number {
  if (text === '0') return 0;
  const match = /^(-?)(\d+)p(-?\d+)$/.exec(text)!;
  // Two steps so that subnormals do not underflow in the intermediate power.
  const exponent = Number(match[3]);
  const half = Math.trunc(exponent / 2);
  const value = Number(match[2]) * 2 ** half * 2 ** (exponent - half);
  return match[1] === '-' ? -value : value;
}

describe('row hash rendering', () => {
  it('renders every double exactly, whatever its magnitude', async () => {
    const conn = await connect(server);
    try {
      const shape = (await describeTable(conn, 'h', 'd'))!;
      const x = shape.columns.find((c) => c.name === 'x')!;
      const expression = rowHashSql([x]).replace(
        /^CRC32\(CONCAT_WS\('#', (.*), CONCAT\(ISNULL\(`x`\)\)\)\)$/s,
        '$1',
      );
      const [rows] = (await conn.query(
        `SELECT id, CAST(x AS CHAR) AS text, ${expression} AS exact FROM h.d ORDER BY id`,
      )) as unknown as [{ id: number; text: string; exact: string }[]];
      for (const row of rows) expect([row.id, decode(row.exact)]).toEqual([row.id, Number(row.text)]);
      // Canonical: odd mantissa, so 2.0 is 1p1 and never 2p0 or 4p-1.
      expect(rows.find((r) => r.id === 8)!.exact).toBe('1p1');
      expect(rows.find((r) => r.id === 2)!.exact).toBe('0');
    } finally {
      await conn.end();
    }
  });

  it('tells NULL from empty and does not let a separator inside a value shift columns', async () => {
    const conn = await connect(server);
    try {
      const shape = (await describeTable(conn, 'h', 's'))!;
      const [rows] = (await conn.query(
        `SELECT id, ${rowHashSql(shape.columns)} AS h FROM h.s`,
      )) as unknown as [{ id: number; h: number }[]];
      expect(new Set(rows.map((r) => r.h)).size).toBe(rows.length);
    } finally {
      await conn.end();
    }
  });
});
