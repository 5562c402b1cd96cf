/**
 * Binlogs written by real MariaDB servers: transactions and per-table row
 * counts equal what `mariadb-binlog -vv` prints for the same files
 * (its `### INSERT/UPDATE/DELETE` lines under each GTID), including
 * compressed row events, rotation, XA, savepoints and non-transactional tables.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readBinlog, readTransactions, type Transaction } from '../../src/binlog/index.js';
import { type Sandbox, sql, startSandbox } from '../support/sandbox.js';

type Counts = Record<string, Record<string, { insert: number; update: number; delete: number }>>;

/** Per GTID, the row counts `mariadb-binlog -vv` reports. */
function referenceCounts(files: string[]): Counts {
  const text = execFileSync('mariadb-binlog', ['-vv', '--base64-output=decode-rows', ...files], {
    maxBuffer: 1 << 28,
    encoding: 'utf8',
  });
  const counts: Counts = {};
  let gtid = '';
  for (const line of text.split('\n')) {
    const g = /^#\d{6}\s.*\sGTID (\d+-\d+-\d+)/.exec(line);
    if (g) {
      gtid = g[1] as string;
      continue;
    }
    const m = /^### (INSERT INTO|UPDATE|DELETE FROM) `([^`]+)`\.`([^`]+)`/.exec(line);
    if (!m) continue;
    const op = m[1] === 'INSERT INTO' ? 'insert' : m[1] === 'UPDATE' ? 'update' : 'delete';
    counts[gtid] ??= {};
    const table = `${m[2]}.${m[3]}`;
    const perTable = counts[gtid] as Counts[string];
    perTable[table] ??= { insert: 0, update: 0, delete: 0 };
    (perTable[table] as { insert: number; update: number; delete: number })[op]++;
  }
  return counts;
}

/** The sandbox layout keeps binlogs in `<dir>/binlog/` (beside data/). */
function binlogDir(sandbox: Sandbox): string {
  return join(sandbox.dir, 'binlog');
}

function binlogFiles(sandbox: Sandbox): string[] {
  return readdirSync(binlogDir(sandbox))
    .filter((n) => /\.\d+$/.test(n))
    .sort()
    .map((n) => join(binlogDir(sandbox), n));
}

async function ours(sandbox: Sandbox): Promise<Transaction[]> {
  const out: Transaction[] = [];
  for await (const tx of readTransactions(readBinlog({ dir: binlogDir(sandbox) }))) out.push(tx);
  return out;
}

const WORKLOAD = [
  'CREATE DATABASE app',
  'CREATE TABLE app.account (id INT PRIMARY KEY, name VARCHAR(40), balance DECIMAL(12,2), note TEXT) ENGINE=InnoDB',
  'CREATE TABLE app.audit (id INT AUTO_INCREMENT PRIMARY KEY, msg VARCHAR(200)) ENGINE=InnoDB',
  'CREATE TABLE app.cache (k VARCHAR(20) PRIMARY KEY, v BLOB) ENGINE=MyISAM',
  "INSERT INTO app.account VALUES (1,'ana',10.5,NULL),(2,'bo',20,'x'),(3,'cy',-3.25,REPEAT('long text ',300))",
  "BEGIN; UPDATE app.account SET balance = balance * 2 WHERE id <= 2; INSERT INTO app.audit (msg) VALUES ('doubled'); DELETE FROM app.account WHERE id = 3; COMMIT",
  "BEGIN; INSERT INTO app.audit (msg) VALUES ('kept'); SAVEPOINT s1; INSERT INTO app.audit (msg) VALUES ('undone'); ROLLBACK TO SAVEPOINT s1; COMMIT",
  "BEGIN; INSERT INTO app.audit (msg) VALUES ('never'); ROLLBACK",
  "INSERT INTO app.cache VALUES ('a', 0x00ff), ('b', REPEAT('z', 5000))",
  'FLUSH BINARY LOGS',
  "INSERT INTO app.audit (msg) SELECT CONCAT('bulk ', seq) FROM app.seq_1_to_3000",
  'UPDATE app.audit SET msg = UPPER(msg) WHERE id % 7 = 0',
  "XA START 'x1'; INSERT INTO app.account VALUES (10,'xa',1,NULL); XA END 'x1'; XA PREPARE 'x1'",
  "XA COMMIT 'x1'",
  'ALTER TABLE app.account ADD COLUMN extra INT',
  'DELETE FROM app.audit WHERE id > 2000',
];

async function runWorkload(sandbox: Sandbox): Promise<void> {
  for (const statement of WORKLOAD) await sql(sandbox, statement);
}

function compare(txs: Transaction[], reference: Counts): void {
  const mine: Counts = {};
  for (const tx of txs) {
    const withRows = Object.entries(tx.rows).filter(([, c]) => c.insert + c.update + c.delete > 0);
    if (withRows.length > 0) mine[tx.gtid ?? '?'] = Object.fromEntries(withRows);
  }
  expect(mine).toEqual(reference);
}

describe('MariaDB binlogs against mariadb-binlog -vv', () => {
  test('row counts per transaction and table, across rotation', async () => {
    const sandbox = await startSandbox();
    await runWorkload(sandbox);
    await sql(sandbox, 'FLUSH BINARY LOGS');
    const files = binlogFiles(sandbox);
    expect(files.length).toBeGreaterThanOrEqual(3);
    const txs = await ours(sandbox);
    const reference = referenceCounts(files);
    // Inserts, the multi-table transaction, MyISAM, bulk insert, update, XA, delete.
    expect(Object.keys(reference).length).toBeGreaterThanOrEqual(7);
    compare(txs, reference);

    // The facts mariadb-binlog does not summarise.
    for (const tx of txs) {
      expect(tx.gtid).toMatch(/^0-\d+-\d+$/);
      expect(tx.complete).toBe(true);
      expect(tx.tsSource).toBe('statement-start');
      expect(tx.end).toBeGreaterThan(tx.start);
    }
    const doubled = txs.find((t) => t.rows['app.account']?.delete === 1);
    expect(doubled?.rows).toEqual({
      'app.account': { insert: 0, update: 2, delete: 1 },
      'app.audit': { insert: 1, update: 0, delete: 0 },
    });
    expect(doubled?.statements).toContain('UPDATE app.account SET balance = balance * 2 WHERE id <= 2');
    const ddl = txs.find((t) => t.statements.some((s) => s.startsWith('ALTER TABLE app.account')));
    expect(ddl?.rows).toEqual({});
    const bulk = txs.find((t) => (t.rows['app.audit']?.insert ?? 0) === 3000);
    expect(bulk).toBeDefined();
    expect(txs.some((t) => t.statements.some((s) => s.includes('never')))).toBe(false);
  });

  test('compressed row events (log_bin_compress) and MINIMAL row images', async () => {
    const sandbox = await startSandbox({
      serverOptions: { log_bin_compress: true, log_bin_compress_min_len: 10, binlog_row_image: 'MINIMAL' },
    });
    await runWorkload(sandbox);
    const files = binlogFiles(sandbox);
    const types = new Set<number>();
    for await (const e of readBinlog({ dir: binlogDir(sandbox) })) types.add(e.header.type);
    // 166-171: the compressed rows events were really written.
    expect([...types].some((t) => t >= 166 && t <= 171)).toBe(true);
    compare(await ours(sandbox), referenceCounts(files));
  });
});
