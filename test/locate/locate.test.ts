/**
 * locate against a real server: a workload on several connections, Flyway and
 * Knex migrations recorded the way those tools record them, a bad UPDATE
 * without WHERE inside migration V3 and inside a Knex migration, then later
 * writes. The bad transactions' GTIDs come from the server (@@last_gtid).
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SalvageError } from '../../src/errors.js';
import { locate } from '../../src/locate/index.js';
import { parseDsn, resolveTarget } from '../../src/mysql/index.js';
import { type CliRun, runSalvage } from '../support/cli.js';
import { connect, type Sandbox, sql, startSandbox } from '../support/sandbox.js';

const KNEX_BAD = '20240502120000_reset_prices.js';

let server: Sandbox;
let binlogDir: string;
let archive: string;
/** GTIDs the server gave the transactions the tests look for. */
const gtid = { flywayBad: '', knexBad: '', flywayAlter: '' };
let startedAt = 0;

async function lastGtid(conn: mysql.Connection): Promise<string> {
  const [rows] = await conn.query('SELECT @@last_gtid AS g');
  return String((rows as { g: string }[])[0]?.g);
}

/** What Flyway does after a versioned migration succeeds: one history row, on the migration's connection. */
async function flywayRecord(
  conn: mysql.Connection,
  rank: number,
  version: string,
  description: string,
): Promise<void> {
  await conn.query(
    `INSERT INTO app.flyway_schema_history
       (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success)
     VALUES (?, ?, ?, 'SQL', ?, ?, 'root', 12, 1)`,
    [rank, version, description, `V${version}__${description.replaceAll(' ', '_')}.sql`, 1000 + rank],
  );
}

async function loadWorkload(): Promise<void> {
  const flyway = await connect(server);
  const knex = await connect(server);
  const w1 = await connect(server);
  const w2 = await connect(server);
  try {
    await flyway.query('CREATE DATABASE app; CREATE DATABASE shop');
    // Flyway's own table, as it creates it on MySQL/MariaDB.
    await flyway.query(`CREATE TABLE app.flyway_schema_history (
      installed_rank INT NOT NULL, version VARCHAR(50), description VARCHAR(200) NOT NULL,
      type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INT,
      installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
      execution_time INT NOT NULL, success TINYINT(1) NOT NULL,
      CONSTRAINT flyway_schema_history_pk PRIMARY KEY (installed_rank)) ENGINE=InnoDB`);
    await flyway.query('CREATE INDEX flyway_schema_history_s_idx ON app.flyway_schema_history (success)');
    await flyway.query('CREATE TABLE app.users (id INT PRIMARY KEY, email VARCHAR(100), name VARCHAR(50))');
    await flywayRecord(flyway, 1, '1', 'create users');
    await flyway.query('CREATE TABLE app.orders (id INT PRIMARY KEY, user_id INT, total DECIMAL(10,2))');
    await flywayRecord(flyway, 2, '2', 'create orders');
    for (let i = 1; i <= 40; i++) {
      await w1.query('INSERT INTO app.users VALUES (?, ?, ?)', [i, `u${i}@example.com`, `user ${i}`]);
      if (i % 4 === 0) await w2.query('INSERT INTO app.orders VALUES (?, ?, ?)', [i, i, i * 1.5]);
    }
    // Knex's tables, as knex creates them; its migrations run in one transaction each.
    await knex.query(`CREATE TABLE shop.knex_migrations (id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      name VARCHAR(255), batch INT, migration_time TIMESTAMP NULL DEFAULT NULL)`);
    await knex.query(`CREATE TABLE shop.knex_migrations_lock (\`index\` INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      is_locked INT)`);
    await knex.query('CREATE TABLE shop.products (id INT PRIMARY KEY, price DECIMAL(10,2))');
    await knex.query(
      "INSERT INTO shop.knex_migrations (name, batch, migration_time) VALUES ('20240501090000_create_products.js', 1, CURRENT_TIMESTAMP)",
    );
    for (let i = 1; i <= 25; i++) await w2.query('INSERT INTO shop.products VALUES (?, ?)', [i, 10 + i]);

    startedAt = Date.now() / 1000 - 1;
    // Migration V3: a harmless ALTER, then the bad UPDATE, with other connections writing in between.
    await flyway.query('ALTER TABLE app.users ADD COLUMN nickname VARCHAR(50)');
    gtid.flywayAlter = await lastGtid(flyway);
    await w1.query("UPDATE app.users SET name = 'renamed' WHERE id = 7");
    await flyway.query('UPDATE app.users SET email = NULL');
    gtid.flywayBad = await lastGtid(flyway);
    await w2.query('INSERT INTO app.orders VALUES (1000, 3, 99.5)');
    await flywayRecord(flyway, 3, '3', 'clear emails');

    // Knex batch 2: a bad UPDATE and its history row in one transaction.
    await w1.query('INSERT INTO app.users (id, email, name) VALUES (41, NULL, "late")');
    await knex.query('BEGIN');
    await knex.query('UPDATE shop.products SET price = 0');
    await knex.query(
      'INSERT INTO shop.knex_migrations (name, batch, migration_time) VALUES (?, 2, CURRENT_TIMESTAMP)',
      [KNEX_BAD],
    );
    await knex.query('COMMIT');
    gtid.knexBad = await lastGtid(knex);

    // Later writes.
    await w1.query("UPDATE app.users SET email = 'back@example.com' WHERE id = 5");
    await w2.query('DELETE FROM app.orders WHERE id = 8');
    await flyway.query('CREATE TABLE app.audit (id INT PRIMARY KEY)');
    await flywayRecord(flyway, 4, '4', 'audit table');
  } finally {
    await Promise.all([flyway, knex, w1, w2].map((c) => c.end()));
  }
}

function salvage(...args: string[]): Promise<CliRun> {
  return runSalvage(args);
}

const target = (database?: string) =>
  resolveTarget(parseDsn(database === undefined ? server.dsn : `${server.dsn}/${database}`), {});

async function thrown(promise: Promise<unknown>): Promise<SalvageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SalvageError);
  return error as SalvageError;
}

beforeAll(async () => {
  server = await startSandbox();
  binlogDir = join(server.dir, 'binlog');
  await loadWorkload();
  await sql(server, 'FLUSH BINARY LOGS');
  archive = await mkdtemp(join(tmpdir(), 'salvage-locate-archive-'));
  await cp(binlogDir, archive, { recursive: true });
}, 180_000);

afterAll(async () => {
  if (archive) await rm(archive, { recursive: true, force: true });
});

describe('locate --migration', () => {
  it('ranks the UPDATE without WHERE of Flyway V3 first, from the binlog files', async () => {
    const result = await locate({
      source: target(),
      binlog: { dir: binlogDir },
      query: { kind: 'migration', id: '3' },
    });
    const best = result.candidates[0];
    expect(best?.transaction.gtid).toBe(gtid.flywayBad);
    expect(best?.why.join('\n')).toMatch(/UPDATE without WHERE/);
    expect(best?.why.join('\n')).toMatch(/changed 40 rows: app\.users 40 updated/);
    expect(result.migration).toMatchObject({
      tool: 'flyway',
      table: 'app.flyway_schema_history',
      label: 'V3 clear emails',
    });
    // The ALTER of the same run is a candidate too, ranked below.
    const alter = result.candidates.findIndex((c) => c.transaction.gtid === gtid.flywayAlter);
    expect(alter).toBeGreaterThan(0);
    // Nothing after the history row, and not the earlier migrations' work.
    const anchorSeq = Number(result.migration?.gtid?.split('-')[2]);
    for (const c of result.candidates)
      expect(Number(c.transaction.gtid?.split('-')[2])).toBeLessThan(anchorSeq);
    expect(
      result.candidates.some((c) => /CREATE TABLE app\.orders/.test(c.transaction.statements.join())),
    ).toBe(false);
    expect(result.range.source).toBe('files');
  });

  it('gives the cut around the best candidate as positions and GTID states', async () => {
    const result = await locate({
      source: target(),
      binlog: { dir: binlogDir },
      query: { kind: 'migration', id: 'V3' },
    });
    const best = result.candidates[0]!;
    const [domain, serverId, seq] = gtid.flywayBad.split('-');
    expect(best.cut.before).toMatchObject({
      file: best.transaction.file,
      position: best.transaction.start,
      gtidState: `${domain}-${serverId}-${Number(seq) - 1}`,
      point: { kind: 'before', gtid: gtid.flywayBad },
    });
    expect(best.cut.after).toMatchObject({
      position: best.transaction.end,
      gtidState: gtid.flywayBad,
      point: { kind: 'after', gtid: gtid.flywayBad },
    });
  });

  it('ranks the bad Knex migration first by its name (the history row in the same transaction)', async () => {
    for (const id of [KNEX_BAD, '20240502120000_reset_prices', 'reset_prices']) {
      const result = await locate({
        source: target(),
        binlog: { dir: binlogDir },
        query: { kind: 'migration', id },
      });
      expect(result.migration?.tool).toBe('knex');
      expect(result.candidates[0]?.transaction.gtid).toBe(gtid.knexBad);
      expect(result.candidates[0]?.why.join('\n')).toMatch(
        /UPDATE without WHERE.*shop\.products|same transaction/s,
      );
      // The history table's own row is bookkeeping, not damage.
      expect(result.candidates[0]?.why.join('\n')).not.toMatch(/knex_migrations 1 inserted/);
    }
  });

  it('reads the binlog from the server over the replication protocol', async () => {
    const result = await locate({ source: target('app'), query: { kind: 'migration', id: '3' } });
    expect(result.range.source).toBe('server');
    expect(result.candidates[0]?.transaction.gtid).toBe(gtid.flywayBad);
  });

  it('lists the nearest ids when the id is not found', async () => {
    const error = await thrown(
      locate({
        source: target(),
        binlog: { dir: binlogDir },
        query: { kind: 'migration', id: '20240502120000_reset_prizes' },
      }),
    );
    expect(error.code).toBe('MIGRATION_NOT_FOUND');
    expect(error.message).toMatch(/nearest: 20240502120000_reset_prices\.js \(knex\)/);
    const byVersion = await thrown(locate({ source: target('app'), query: { kind: 'migration', id: '9' } }));
    expect(byVersion.message).toMatch(/nearest: .*V\d .*\(flyway\)/);
  });

  it('names the expected columns of a history table of unknown shape (CLI exit 2)', {
    timeout: 300_000,
  }, async () => {
    await sql(
      server,
      'CREATE DATABASE legacy; CREATE TABLE legacy.schema_migrations (id INT PRIMARY KEY, applied VARCHAR(20))',
    );
    const run = await salvage('--json', 'locate', '--source', `${server.dsn}/legacy`, '--migration', '1');
    expect(run.code).toBe(2);
    const { error } = JSON.parse(run.stdout);
    expect(error.code).toBe('MIGRATION_HISTORY_SHAPE');
    expect(error.message).toMatch(/legacy\.schema_migrations has columns id, applied/);
    expect(error.message).toMatch(/golang-migrate expects version, dirty/);
    expect(error.message).toMatch(/rails expects version \(missing version\)/);
  });
});

describe('locate --grep and --table', () => {
  it('ranks the bad UPDATE first by its text', async () => {
    const result = await locate({
      binlog: { dir: binlogDir },
      query: { kind: 'grep', pattern: /SET email/i },
    });
    expect(result.candidates[0]?.transaction.gtid).toBe(gtid.flywayBad);
    expect(result.candidates.map((c) => c.transaction.statements.join())).toContainEqual(
      expect.stringMatching(/back@example\.com/),
    );
  });

  it('ranks the burst of rows on a table first in a time window', async () => {
    const result = await locate({
      binlog: { dir: binlogDir },
      query: { kind: 'table', table: 'app.users', since: startedAt },
    });
    expect(result.candidates[0]?.transaction.gtid).toBe(gtid.flywayBad);
    // The 40 inserts before the window are not candidates.
    for (const c of result.candidates) expect(c.transaction.ts).toBeGreaterThanOrEqual(startedAt);
  });

  it('prints the JSON contract and the cut (CLI)', { timeout: 300_000 }, async () => {
    const run = await salvage(
      '--json',
      'locate',
      '--source',
      server.dsn,
      '--dir',
      binlogDir,
      '--migration',
      'flyway:3',
    );
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout) as {
      candidates: {
        gtid: string;
        file: string;
        start: number;
        end: number;
        ts: number;
        statement: string;
        rows: object;
        why: string[];
        score: number;
      }[];
      cut: {
        before: { gtid: string; file: string; position: number };
        after: { gtid: string; position: number };
      };
    };
    const best = doc.candidates[0]!;
    expect(best).toMatchObject({ gtid: gtid.flywayBad, statement: 'UPDATE app.users SET email = NULL' });
    expect(Object.keys(best).sort()).toEqual(
      ['end', 'file', 'gtid', 'rows', 'score', 'start', 'statement', 'threadId', 'ts', 'why'].sort(),
    );
    expect(doc.cut.before).toMatchObject({ file: best.file, position: best.start });
    expect(doc.cut.after).toMatchObject({ gtid: gtid.flywayBad, position: best.end });
  });

  it('exits 1 when the expression matches nothing, 2 when it is not one', { timeout: 300_000 }, async () => {
    const none = await salvage('locate', '--dir', binlogDir, '--grep', 'no_such_statement_anywhere');
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(
      /NO_MATCH: no statement matches \/no_such_statement_anywhere\/ in the binlogs read/,
    );
    const bad = await salvage('locate', '--dir', binlogDir, '--grep', '(unclosed');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not a valid regular expression/);
  });
});

describe('locate when binlogs were purged', () => {
  it('says the window is older than the oldest binlog on the server, and the archive still answers', async () => {
    await sql(
      server,
      "FLUSH BINARY LOGS; PURGE BINARY LOGS TO 'binlog.000003'; INSERT INTO app.audit VALUES (1)",
    );
    // MariaDB keeps a binlog crash recovery still needs (until its checkpoint): the oldest left may be .000002.
    const [oldest] = await sql<{ Log_name: string }>(server, 'SHOW BINARY LOGS');
    const name = oldest?.Log_name as string;
    expect(name).not.toBe('binlog.000001');
    const error = await thrown(locate({ source: target(), query: { kind: 'migration', id: '3' } }));
    expect(error.code).toBe('BINLOG_PURGED');
    expect(error.message).toMatch(
      /^V3 clear emails \(flyway\) ran at .* before the oldest binlog still on the server/,
    );
    expect(error.message).toContain(`still on the server (${name}) begins at`);
    expect(error.hint).toMatch(/--dir/);

    const window = await locate({
      source: target(),
      query: { kind: 'table', table: 'app.audit', since: startedAt },
    });
    expect(window.warnings[0]?.message).toContain(`before the oldest binlog still on the server (${name},`);

    const fromArchive = await locate({
      source: target(),
      binlog: { dir: archive },
      query: { kind: 'migration', id: '3' },
    });
    expect(fromArchive.candidates[0]?.transaction.gtid).toBe(gtid.flywayBad);
  });
});
