/**
 * Events the session replay refuses (statement-based LOAD DATA, XA) are the
 * server applier's own business: a restore into a sandbox replays them.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxTarget } from '../../src/backup/index.js';
import { isSalvageError } from '../../src/errors.js';
import { replayBinlog, replayWithServerApplier } from '../../src/restore/index.js';
import { binlogEventBatches, binlogEvents } from '../support/binlog-events.js';
import { connect, type Sandbox, sql, startSandbox } from '../support/sandbox.js';

let source: Sandbox;
let scratch: string;
const servers: Sandbox[] = [];

async function checksum(server: Sandbox): Promise<string> {
  const rows = await sql<{ Table: string; Checksum: string }>(server, 'CHECKSUM TABLE app.t, app.x EXTENDED');
  return rows.map((r) => `${r.Table}=${r.Checksum}`).join(' ');
}

beforeAll(async () => {
  source = await startSandbox();
  scratch = await mkdtemp(join(tmpdir(), 'salvage-load-'));
  const csv = join(scratch, 'rows.csv');
  await writeFile(csv, Array.from({ length: 500 }, (_, i) => `${i + 1},"line ${i}"`).join('\n'));
  await sql(
    source,
    'CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(40)); CREATE TABLE app.x (id INT PRIMARY KEY)',
  );
  const session = await connect(source);
  try {
    await session.query(
      `SET SESSION binlog_format = 'STATEMENT';
       LOAD DATA INFILE '${csv}' INTO TABLE app.t FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"'`,
    );
    await session.query("XA START 'x1'; INSERT INTO app.x VALUES (1), (2); XA END 'x1'; XA PREPARE 'x1'");
    await session.query("XA COMMIT 'x1'");
  } finally {
    await session.end();
  }
  await sql(source, 'FLUSH BINARY LOGS');
}, 120_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.destroy()));
  await rm(scratch, { recursive: true, force: true });
});

describe('the server applier', () => {
  it('replays statement-based LOAD DATA and XA transactions, which the session replay refuses', async () => {
    const [target, other] = await Promise.all([
      startSandbox({
        serverOptions: { relay_log: 'relay-bin', log_slave_updates: 'ON', skip_slave_start: 'ON' },
      }),
      startSandbox(),
    ]);
    servers.push(target, other);
    // The file is gone by the time a restore runs: the binlog carries its content.
    await rm(join(scratch, 'rows.csv'));
    const result = await replayWithServerApplier({
      target: sandboxTarget(target),
      events: binlogEventBatches(source),
    });
    expect(result?.replayed).toBeGreaterThan(0);
    expect(await checksum(target)).toBe(await checksum(source));
    const [count] = await sql<{ n: number }>(target, 'SELECT COUNT(*) AS n FROM app.t');
    expect(Number(count?.n)).toBe(500);

    let refused: unknown;
    await replayBinlog({ target: sandboxTarget(other), events: binlogEvents(source) }).catch((e: unknown) => {
      refused = e;
    });
    expect(isSalvageError(refused) && refused.code).toBe('BINLOG_UNSUPPORTED');
  }, 120_000);
});

describe('the server applier on a binlog without checksums', () => {
  it('writes relay logs the applier reads, and gives the source tables', async () => {
    const plain = await startSandbox({ serverOptions: { binlog_checksum: 'NONE' } });
    const target = await startSandbox({
      serverOptions: { relay_log: 'relay-bin', log_slave_updates: 'ON', skip_slave_start: 'ON' },
    });
    servers.push(plain, target);
    const [setting] = await sql<{ c: string }>(plain, 'SELECT @@binlog_checksum AS c');
    expect(setting?.c).toBe('NONE');
    await sql(
      plain,
      `CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(40)); CREATE TABLE app.x (id INT PRIMARY KEY);
       INSERT INTO app.t VALUES (1, 'a'), (2, 'b'); FLUSH BINARY LOGS; UPDATE app.t SET v = 'c' WHERE id = 2; INSERT INTO app.x VALUES (7)`,
    );
    const result = await replayWithServerApplier({
      target: sandboxTarget(target),
      events: binlogEventBatches(plain),
    });
    expect(result?.replayed).toBeGreaterThan(0);
    const sums = async (server: Sandbox): Promise<string> => {
      const rows = await sql<{ Table: string; Checksum: string }>(
        server,
        'CHECKSUM TABLE app.t, app.x EXTENDED',
      );
      return rows.map((r) => `${r.Table}=${r.Checksum}`).join(' ');
    };
    expect(await sums(target)).toBe(await sums(plain));
  }, 120_000);
});
