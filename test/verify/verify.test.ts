import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseTableFilter, verifyServers } from '../../src/verify/index.js';
import { type Sandbox, sql, startSandbox } from '../support/sandbox.js';
import { loadShop, targetOf } from './fixtures.js';

let source: Sandbox;
let target: Sandbox;

beforeAll(async () => {
  [source, target] = await Promise.all([startSandbox({ binlog: false }), startSandbox({ binlog: false })]);
  await Promise.all([loadShop(source), loadShop(target)]);
});

// Small chunks so a 6,000-row table is split into several, by integer ranges and by key walk.
// Chunk by chunk even when equal, unless a test says otherwise.
const base = () => ({
  source: targetOf(source),
  target: targetOf(target),
  chunkRows: 1000,
  checksumTable: false,
});

describe('verify', () => {
  it('says equal for two servers loaded with the same data', async () => {
    const report = await verifyServers(base());
    expect(report.tables.map((t) => [t.table, t.status])).toEqual([
      ['shop.audit', 'equal'],
      ['shop.customers', 'equal'],
      ['shop.orders', 'equal'],
    ]);
    const customers = report.tables.find((t) => t.table === 'shop.customers')!;
    expect(customers.rows).toEqual({ source: 6000, target: 6000 });
    expect(customers.chunk_method).toBe('integer-range');
    expect(customers.chunks).toBeGreaterThan(3);
    const orders = report.tables.find((t) => t.table === 'shop.orders')!;
    expect(orders.chunk_method).toBe('key-walk');
    expect(orders.chunks).toBeGreaterThan(2);
    const audit = report.tables.find((t) => t.table === 'shop.audit')!;
    expect(audit.chunk_key.kind).toBe('none');
    expect(audit.notes.join()).toMatch(/whole-table checksum/);
    expect(report.check.every((c) => c.status === 'ok')).toBe(true);
    expect(report.orphans).toHaveLength(1);
    expect(report.orphans[0]!.orphans).toBe(0);
    expect(report.equal).toBe(true);
    // Same server version on both sides: CHECKSUM TABLE settles equal tables without chunking.
    const fast = await verifyServers({ ...base(), checksumTable: true });
    expect(fast.equal).toBe(true);
    expect(fast.tables.map((t) => t.chunk_method)).toEqual([
      'checksum-table',
      'checksum-table',
      'checksum-table',
    ]);
    expect(fast.tables.find((t) => t.table === 'shop.customers')!.rows).toEqual({
      source: 6000,
      target: 6000,
    });
  });

  it('names the damaged table and the differing primary keys', async () => {
    // NULL vs '' and a float's last bit are differences too.
    await sql(
      target,
      `UPDATE shop.customers SET notes = '' WHERE id = 3;
       UPDATE shop.customers SET score = score + 1e-12 WHERE id = 4500;
       DELETE FROM shop.orders WHERE code = 'ORD-002500';
       INSERT INTO shop.audit VALUES ('dup', 'same')`,
    );
    try {
      // The CHECKSUM TABLE fast path sees the difference and falls back to chunks to localize it.
      const report = await verifyServers({ ...base(), checksumTable: true });
      expect(report.equal).toBe(false);
      const customers = report.tables.find((t) => t.table === 'shop.customers')!;
      expect(customers.status).toBe('differs');
      expect(customers.chunks_differing).toBe(2);
      expect(customers.sample_keys).toEqual(
        expect.arrayContaining([
          { key: { id: 3 }, kind: 'changed' },
          { key: { id: 4500 }, kind: 'changed' },
        ]),
      );
      expect(customers.sample_keys).toHaveLength(2);
      const orders = report.tables.find((t) => t.table === 'shop.orders')!;
      expect(orders.status).toBe('differs');
      expect(orders.rows).toEqual({ source: 4000, target: 3999 });
      expect(orders.sample_keys).toEqual([{ key: { code: 'ORD-002500' }, kind: 'missing_on_target' }]);
      const audit = report.tables.find((t) => t.table === 'shop.audit')!;
      // A duplicate row in a table without a key: BIT_XOR would cancel it, the sum does not.
      expect(audit.status).toBe('differs');
      expect(audit.sample_keys).toEqual([]);
    } finally {
      await sql(
        target,
        `UPDATE shop.customers SET notes = NULL WHERE id = 3;
         UPDATE shop.customers c JOIN (SELECT 4500 / 3 AS v) x SET c.score = x.v WHERE c.id = 4500;
         INSERT INTO shop.orders SELECT 'ORD-002500', 1 + 2500 % 6000, 2500 * 0.5;
         DELETE FROM shop.audit WHERE who = 'dup' LIMIT 1`,
      );
    }
    expect((await verifyServers(base())).equal).toBe(true);
  });

  it('reports a table missing on one side and a schema difference', async () => {
    await sql(
      source,
      'CREATE TABLE shop.only_source (id INT PRIMARY KEY); INSERT INTO shop.only_source VALUES (1),(2)',
    );
    await sql(target, 'ALTER TABLE shop.audit ADD COLUMN extra INT NULL');
    try {
      const report = await verifyServers(base());
      const only = report.tables.find((t) => t.table === 'shop.only_source')!;
      expect(only.status).toBe('missing_on_target');
      expect(only.rows).toEqual({ source: 2, target: null });
      const audit = report.tables.find((t) => t.table === 'shop.audit')!;
      expect(audit.status).toBe('schema_differs');
      expect(audit.schema_differences).toEqual([{ kind: 'column_added', column: 'extra' }]);
      // The data on the common columns is still compared, and is equal.
      expect(audit.chunks_differing).toBe(0);
      expect(report.equal).toBe(false);
    } finally {
      await sql(source, 'DROP TABLE shop.only_source');
      await sql(target, 'ALTER TABLE shop.audit DROP COLUMN extra');
    }
  });

  it('fails on an assertion that returns rows and on orphans, restricted to --tables', async () => {
    const file = join(tmpdir(), `salvage-assert-${process.pid}.sql`);
    await writeFile(
      file,
      `-- every order has a positive total; semicolons in strings do not split: ';'
       SELECT code FROM shop.orders WHERE total <= 0;
       SELECT id FROM shop.customers WHERE email = 'user1@example.com';`,
    );
    await sql(target, "SET FOREIGN_KEY_CHECKS=0; INSERT INTO shop.orders VALUES ('ORPHAN-1', 999999, 1)");
    try {
      const report = await verifyServers({
        ...base(),
        tables: parseTableFilter('shop.orders'),
        assertFile: file,
      });
      expect(report.tables.map((t) => t.table)).toEqual(['shop.orders']);
      expect(report.assertions.map((a) => [a.passed, a.rows])).toEqual([
        [true, 0],
        [false, 1],
      ]);
      expect(report.orphans[0]).toMatchObject({ table: 'shop.orders', orphans: 1, samples: [[999999]] });
      expect(report.equal).toBe(false);
    } finally {
      await sql(target, "DELETE FROM shop.orders WHERE code = 'ORPHAN-1'");
    }
  });
});
