/** The pure parts of locate: GTID states for cut points, id matching, scoring. */
import { describe, expect, it } from 'vitest';
import type { Transaction } from '../../src/binlog/index.js';
import type { SalvageError } from '../../src/errors.js';
import { gtidTrackerFor } from '../../src/locate/gtid-tracker.js';
import { HISTORY_ADAPTERS, type HistoryTable, type MigrationRecord } from '../../src/locate/history.js';
import { editDistance, findMigration } from '../../src/locate/index.js';
import { scoreTransaction } from '../../src/locate/score.js';

describe('GTID state', () => {
  it('MySQL: seeds from PREVIOUS_GTIDS and merges committed numbers into ranges', () => {
    const state = gtidTrackerFor('mysql');
    state.seed([
      '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:8',
      'aaaaaaaa-0000-0000-0000-000000000000:tag:1-2',
    ]);
    state.add('3e11fa47-71ca-11e1-9e33-c80aa9429562:6');
    expect(state.text()).toBe(
      '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-6:8,aaaaaaaa-0000-0000-0000-000000000000:tag:1-2',
    );
    state.add('3e11fa47-71ca-11e1-9e33-c80aa9429562:7');
    state.add('aaaaaaaa-0000-0000-0000-000000000000:tag:3');
    expect(state.text()).toBe(
      '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-8,aaaaaaaa-0000-0000-0000-000000000000:tag:1-3',
    );
  });

  it('MariaDB: the last GTID per domain', () => {
    const state = gtidTrackerFor('mariadb');
    state.seed(['1-1-10', '0-1-4']);
    state.add('0-2-5');
    expect(state.text()).toBe('0-2-5,1-1-10');
  });
});

const flyway: HistoryTable = {
  adapter: HISTORY_ADAPTERS.find((a) => a.tool === 'flyway')!,
  schema: 'app',
  table: 'flyway_schema_history',
  columns: ['installed_rank', 'version', 'description', 'script', 'installed_on', 'success'],
};
const knex: HistoryTable = {
  adapter: HISTORY_ADAPTERS.find((a) => a.tool === 'knex')!,
  schema: 'shop',
  table: 'knex_migrations',
  columns: ['id', 'name', 'batch', 'migration_time'],
};
const record = (history: HistoryTable, row: Record<string, unknown>): MigrationRecord => ({
  history,
  row,
  label: history.adapter.label(row),
  ranAt: undefined,
});
const records = [
  record(flyway, { version: '3', description: 'clear emails', script: 'V3__clear_emails.sql' }),
  record(flyway, { version: '30', description: 'more', script: 'V30__more.sql' }),
  record(knex, { id: 3, name: '20240502120000_reset_prices.js' }),
  record(knex, { id: 4, name: '20240503120000_reset_stock.js' }),
];

describe('migration ids', () => {
  it('prefers an exact version to names containing it', () => {
    expect(findMigration(records, '3').label).toBe('V3 clear emails');
    expect(findMigration(records, 'V30').label).toBe('V30 more');
    expect(findMigration(records, '20240502').label).toBe('20240502120000_reset_prices.js');
    expect(findMigration(records, 'knex:reset_stock').label).toBe('20240503120000_reset_stock.js');
  });

  it('refuses an id naming several migrations', () => {
    expect(() => findMigration(records, 'reset')).toThrow(/names 2 migrations/);
  });

  it('lists the nearest ids when none matches', () => {
    try {
      findMigration(records, '20240502120000_reset_prizes.js');
      expect.unreachable();
    } catch (error) {
      expect((error as SalvageError).code).toBe('MIGRATION_NOT_FOUND');
      expect((error as SalvageError).message).toMatch(/nearest: 20240502120000_reset_prices\.js \(knex\)/);
    }
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});

const tx = (statements: string[], rows: Transaction['rows']): Transaction => ({
  gtid: '0-1-1',
  file: 'binlog.000001',
  start: 4,
  end: 100,
  ts: 0,
  tsSource: 'statement-start',
  serverId: 1,
  threadId: undefined,
  statements,
  rows,
  complete: true,
});

describe('scoring', () => {
  it('weighs UPDATE/DELETE without WHERE and lossy DDL above many rows with a WHERE', () => {
    const bounded = scoreTransaction(
      tx(['UPDATE t SET a = 1 WHERE id < 5000'], { 'd.t': { insert: 0, update: 5000, delete: 0 } }),
      {},
    );
    const unbounded = scoreTransaction(
      tx(['DELETE FROM t'], { 'd.t': { insert: 0, update: 0, delete: 40 } }),
      {},
    );
    const drop = scoreTransaction(tx(['ALTER TABLE t DROP COLUMN email'], {}), {});
    const add = scoreTransaction(tx(['ALTER TABLE t ADD COLUMN x INT'], {}), {});
    expect(unbounded.score).toBeGreaterThan(bounded.score);
    expect(unbounded.why[0]).toMatch(/^DELETE without WHERE/);
    expect(drop.score).toBeGreaterThan(add.score);
    expect(drop.why[0]).toMatch(/drop column/);
  });

  it('does not count the history table and favors closeness to the history row', () => {
    const near = scoreTransaction(
      tx(['UPDATE t SET a = 1 WHERE id = 1'], { 'd.t': { insert: 0, update: 1, delete: 0 } }),
      {
        distance: 0,
        label: 'V3',
      },
    );
    const far = scoreTransaction(
      tx(['UPDATE t SET a = 1 WHERE id = 1'], { 'd.t': { insert: 0, update: 1, delete: 0 } }),
      {
        distance: 5,
        label: 'V3',
      },
    );
    expect(near.score).toBeGreaterThan(far.score);
    const history = scoreTransaction(tx([], { 'd.h': { insert: 1, update: 0, delete: 0 } }), {
      ignoreTable: 'd.h',
    });
    expect(history.score).toBe(0);
  });
});
