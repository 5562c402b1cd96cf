/**
 * Every real MySQL binlog in ../shared/fixtures/mysql8 decodes, with the
 * event counts of its README table and the values its source projects assert.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type BinlogEvent,
  type BinlogNotice,
  eventTypeName,
  readBinlog,
  readRowChanges,
  readTransactions,
  type Transaction,
} from '../../src/binlog/index.js';
import { MYSQL8_FIXTURES } from '../support/paths.js';

const FIXTURES = MYSQL8_FIXTURES;
let tmp: string;
let sakila: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'salvage-fixtures-'));
  sakila = join(tmp, 'mysql-bin.sakila');
  writeFileSync(
    sakila,
    execFileSync('gunzip', ['-c', join(FIXTURES, 'mysql-bin.sakila.gz')], { maxBuffer: 1 << 24 }),
  );
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The README's per-file table: `| `file` | bytes | server | checksum | events | counts | ...`. */
function readmeTable(): Map<string, { events: string; counts: Record<string, number> }> {
  const abbreviations: Record<string, string> = {
    FDE: 'FORMAT_DESCRIPTION',
    PREV_GTIDS: 'PREVIOUS_GTIDS',
    ANON_GTID: 'ANONYMOUS_GTID',
    TX_PAYLOAD: 'TRANSACTION_PAYLOAD',
    'type-100': 'UNKNOWN_100',
  };
  const table = new Map<string, { events: string; counts: Record<string, number> }>();
  for (const line of readFileSync(join(FIXTURES, 'README.md'), 'utf8').split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const name = /^`([^`]+)`/.exec(cells[1] ?? '')?.[1];
    if (!name || cells.length < 8 || !/^\d/.test(cells[2] ?? '')) continue;
    const counts: Record<string, number> = {};
    for (const part of (cells[6] ?? '').split(',')) {
      const m = /^\s*(\S+) (\d+)/.exec(part);
      if (m) counts[abbreviations[m[1] as string] ?? (m[1] as string)] = Number(m[2]);
    }
    table.set(name, { events: cells[5] as string, counts });
  }
  return table;
}

interface Decoded {
  events: BinlogEvent[];
  notices: BinlogNotice[];
}

/** Fixtures are small: collecting their events is fine here (the code under test never does). */
async function decode(path: string): Promise<Decoded> {
  const notices: BinlogNotice[] = [];
  const events: BinlogEvent[] = [];
  for await (const e of readBinlog({ files: [path] }, { onNotice: (n) => notices.push(n) })) events.push(e);
  return { events, notices };
}

const topLevel = (events: BinlogEvent[]) => events.filter((e) => e.header.payloadOffset === undefined);

async function transactionsOf(path: string): Promise<Transaction[]> {
  const out: Transaction[] = [];
  for await (const tx of readTransactions(readBinlog({ files: [path] }))) out.push(tx);
  return out;
}

describe('every MySQL fixture', () => {
  const table = readmeTable();
  const files = readdirSync(FIXTURES).filter((f) => f !== 'README.md');

  test('the README describes every data file', () => {
    for (const file of files) expect(table.has(file), file).toBe(true);
    expect(files.length).toBe(38);
  });

  test('each decodes to the README event counts, rows included', async () => {
    for (const file of files) {
      const path = file.endsWith('.gz') ? sakila : join(FIXTURES, file);
      const expected = table.get(file);
      const { events, notices } = await decode(path);
      const counts: Record<string, number> = {};
      for (const e of topLevel(events)) {
        const name = eventTypeName(e.header.type);
        counts[name] = (counts[name] ?? 0) + 1;
      }
      const truncated = notices.some((n) => n.kind === 'truncated');
      expect(truncated, file).toBe(file.startsWith('binlog_truncated'));
      if (!file.startsWith('binlog_truncated')) {
        expect(topLevel(events).length, file).toBe(Number(expected?.events));
        expect(counts, file).toEqual(expected?.counts);
      }
      // Every row of every rows event (inside payloads too) decodes.
      let rows = 0;
      for await (const _ of readRowChanges(readBinlog({ files: [path] }))) rows++;
      const rowsEvents = events.filter((e) => e.kind === 'rows').length;
      expect(rows >= rowsEvents, file).toBe(true);
    }
  });

  test('the truncated files yield their whole events and say where they stop', async () => {
    const a = await decode(join(FIXTURES, 'binlog_truncated_event.000001'));
    expect(a.events).toEqual([]);
    expect(a.notices).toEqual([
      { kind: 'truncated', file: 'binlog_truncated_event.000001', position: 4, missingBytes: 9 },
    ]);
    const b = await decode(join(FIXTURES, 'binlog_truncated_prev_gtid_event.000001'));
    expect(b.events.map((e) => e.kind)).toEqual(['format-description']);
    expect(b.notices).toEqual([
      { kind: 'truncated', file: 'binlog_truncated_prev_gtid_event.000001', position: 120, missingBytes: 10 },
    ]);
  });

  test('sakila (5.5, v1 rows events, no checksum): 1462 events, about 47k rows', async () => {
    const { events } = await decode(sakila);
    expect(events.length).toBe(1462);
    const fde = events[0];
    expect(fde?.kind === 'format-description' && fde.format.checksum).toBe(false);
    let rows = 0;
    for await (const _ of readRowChanges(readBinlog({ files: [sakila] }))) rows++;
    expect(rows).toBeGreaterThan(46000);
    expect(rows).toBeLessThan(48000);
  });
});

describe('values the source projects assert', () => {
  test('ROWS_QUERY text (bxc-29, event 8)', async () => {
    const { events } = await decode(join(FIXTURES, 'bxc-29_row_query-log.bin'));
    const e = events[8];
    expect(e?.kind).toBe('rows-query');
    expect(e?.kind === 'rows-query' && e.query).toBe(
      "INSERT INTO `boxercrab` (`title`) VALUES ('hahhhhhhhhh')",
    );
    const txs = await transactionsOf(join(FIXTURES, 'bxc-29_row_query-log.bin'));
    expect(txs[2]?.statements).toEqual(["INSERT INTO `boxercrab` (`title`) VALUES ('hahhhhhhhhh')"]);
    expect(txs[2]?.rows).toEqual({ 'default.boxercrab': { insert: 1, update: 0, delete: 0 } });
  });

  test('5.7 GTID and empty PREVIOUS_GTIDS (bxc-33_35)', async () => {
    const { events } = await decode(join(FIXTURES, 'bxc-33_35_gtid_prev_gtid-log.bin'));
    const prev = events[1];
    expect(prev?.kind === 'previous-gtids' && prev.entries).toEqual([]);
    const g = events[2];
    if (g?.kind !== 'gtid') throw new Error('event 2 is not a GTID');
    expect(g.flags).toBe(1);
    expect(g.lastCommitted).toBe(0);
    expect(g.sequenceNumber).toBe(1);
    expect(g.gtid).toBe('80549ecc-d2f2-11ea-b790-0242ac130002:1');
    // 5.7 GTID events have no commit timestamps: the transaction time is the statement start.
    expect(g.immediateCommitTimestamp).toBeUndefined();
  });

  test('USER_VAR, INTVAR and RAND (bxc-14, bxc-05, bxc-13)', async () => {
    const uv = (await decode(join(FIXTURES, 'bxc-14_user_var-log.bin'))).events;
    const vars = uv.slice(9, 12).map((e) => {
      if (e.kind !== 'user-var' || !e.value) throw new Error(`not a user var: ${e.kind}`);
      return [e.name, e.value.type, e.value.charset, [...e.value.bytes]];
    });
    expect(vars).toEqual([
      ['val_s', 0, 33, [116, 101, 115, 116, 32, 98, 108, 111, 103]],
      ['val_i', 2, 33, [100, 0, 0, 0, 0, 0, 0, 0]],
      ['val_d', 4, 33, [3, 2, 129, 0]],
    ]);
    const iv = (await decode(join(FIXTURES, 'bxc-05_intvar-log.bin'))).events[8];
    expect(iv?.kind === 'intvar' && [iv.variable, iv.value]).toEqual(['LAST_INSERT_ID', 0n]);
    const rand = (await decode(join(FIXTURES, 'bxc-13_rand-log.bin'))).events[8];
    expect(rand?.kind === 'rand' && [rand.seed1, rand.seed2]).toEqual([694882935n, 292094996n]);
  });

  test('BEGIN_LOAD_QUERY / EXECUTE_LOAD_QUERY (bxc-17_18)', async () => {
    const { events } = await decode(join(FIXTURES, 'bxc-17_18_load-log.bin'));
    const begin = events[4];
    expect(begin?.kind === 'begin-load-query' && [begin.fileId, begin.block.toString()]).toEqual([
      1,
      '1,"abc"\n',
    ]);
    const exec = events[5];
    if (exec?.kind !== 'execute-load-query') throw new Error('event 5 is not EXECUTE_LOAD_QUERY');
    expect([exec.threadId, exec.fileId, exec.startPos, exec.endPos, exec.schema]).toEqual([
      23,
      1,
      9,
      37,
      'default',
    ]);
    expect(exec.query).toBe(
      "LOAD DATA INFILE '/tmp/data.txt' INTO TABLE `boxercrab` FIELDS TERMINATED BY ',' OPTIONALLY  ENCLOSED BY '\"' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (`i`, `c`)",
    );
  });

  test('tagged GTIDs and tagged PREVIOUS_GTIDS (9.6.0)', async () => {
    const path = join(FIXTURES, 'binlog_transaction_with_GTID_TAG.000001');
    const { events } = await decode(path);
    const prev = events.find((e) => e.kind === 'previous-gtids');
    expect(prev?.kind === 'previous-gtids' && prev.gtidSet).toBe(
      '55778904-0299-11f1-b1b8-4ef0c4956feb:1-13,55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:1-2',
    );
    const g = events.find((e) => e.kind === 'gtid');
    expect(g?.kind === 'gtid' && [g.tag, g.sid, g.gno]).toEqual([
      'mytag',
      '55778904-0299-11f1-b1b8-4ef0c4956feb',
      3,
    ]);
    const [tx] = await transactionsOf(path);
    expect(tx?.gtid).toBe('55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:3');
    expect(tx?.tsSource).toBe('commit');
  });

  test('untagged PREVIOUS_GTIDS', async () => {
    const { events } = await decode(join(FIXTURES, 'binlog_transaction_previous_GTID_no_tag.000001'));
    const prev = events[1];
    expect(prev?.kind === 'previous-gtids' && prev.gtidSet).toBe('b9b88c66-0755-11f1-9899-4a9da94c4d71:1-2');
  });

  test('MySQL 8 commit timestamps are microseconds from the GTID event', async () => {
    const { events } = await decode(join(FIXTURES, 'pbs-gtid-binlog.000001'));
    const gtids = events.filter((e) => e.kind === 'gtid');
    expect(gtids.map((g) => g.kind === 'gtid' && g.gtid)).toEqual(
      [1, 2, 3, 4].map((n) => `396e294c-1ca4-11f1-9ae7-00155da79c6b:${n}`),
    );
    const txs = await transactionsOf(join(FIXTURES, 'pbs-gtid-binlog.000001'));
    for (const [i, tx] of txs.entries()) {
      const g = gtids[i];
      if (g?.kind !== 'gtid' || g.originalCommitTimestamp === undefined)
        throw new Error('no commit timestamp');
      expect(g.originalCommitTimestamp).toBe(g.immediateCommitTimestamp);
      expect(tx.ts).toBe(g.originalCommitTimestamp / 1e6);
      // The commit happens at or after the second the header records.
      expect(Math.floor(tx.ts)).toBeGreaterThanOrEqual(g.header.timestamp);
    }
    expect(txs.map((t) => t.rows['test.t1']?.insert ?? 0)).toEqual([0, 1, 1, 4]);
  });

  test('compressed transaction payloads yield their inner events, rows included', async () => {
    const { events } = await decode(join(FIXTURES, 'transaction_compression.000001'));
    const inner = events
      .filter((e) => e.header.payloadOffset !== undefined)
      .map((e) => eventTypeName(e.header.type));
    expect(inner).toEqual(['QUERY', 'TABLE_MAP', 'WRITE_ROWS', 'XID']);
    const [tx] = await transactionsOf(join(FIXTURES, 'transaction_compression.000001'));
    expect(tx?.rows).toEqual({ 'test.tb1': { insert: 1, update: 0, delete: 0 } });
    expect([tx?.start, tx?.end]).toEqual([197, 431]);

    const txs = await transactionsOf(join(FIXTURES, 'mysql-bin.000057'));
    expect(txs.map((t) => t.rows)).toEqual([
      {},
      { 'a.b': { insert: 1, update: 0, delete: 0 } },
      { 'a.test_table_3': { insert: 1, update: 1, delete: 0 } },
    ]);
    expect(txs[2]?.statements.length).toBe(2);
  });

  test('relay log: two FDEs, an artificial ROTATE, rows of the source', async () => {
    const path = join(FIXTURES, 'rpl_unfiltered_hidden_gcol.000001');
    const { events } = await decode(path);
    expect(events.filter((e) => e.kind === 'format-description').map((e) => e.header.serverId)).toEqual([
      2, 1,
    ]);
    const rotates = events.filter((e) => e.kind === 'rotate');
    expect(
      rotates[0]?.kind === 'rotate' && [rotates[0].artificial, rotates[0].nextFile, rotates[0].nextPosition],
    ).toEqual([true, 'master-bin.000001', 4]);
    const txs = await transactionsOf(path);
    expect(txs.at(-1)?.rows).toEqual({ 'test.t': { insert: 1, update: 0, delete: 0 } });
  });

  test('Aurora padding event 100 is reported once as unknown, and strict mode refuses it', async () => {
    const path = join(FIXTURES, 'mysql-bin.aurora-padding');
    const { events, notices } = await decode(path);
    expect(events.map((e) => e.kind)).toEqual([
      'format-description',
      'previous-gtids',
      'gtid',
      'unknown',
      'query',
    ]);
    expect(notices).toEqual([
      { kind: 'unknown-event', file: 'mysql-bin.aurora-padding', position: 281, type: 100 },
    ]);
    const flags = events[3]?.header.flags ?? 0;
    const strict = async () => {
      for await (const _ of readBinlog({ files: [path] }, { strict: true }));
    };
    if ((flags & 0x80) === 0) {
      await expect(strict()).rejects.toMatchObject({ code: 'BINLOG_UNSUPPORTED' });
    } else {
      await strict();
    }
  });

  test('msmp FDE and TABLE_MAP fields (asserted by msmp)', async () => {
    const { events } = await decode(join(FIXTURES, 'msmp-binlog.000001'));
    const fde = events[0];
    if (fde?.kind !== 'format-description') throw new Error('no FDE');
    expect([
      fde.header.timestamp,
      fde.header.serverId,
      fde.header.length,
      fde.header.nextPosition,
      fde.header.flags,
    ]).toEqual([1690534733, 100, 122, 126, 0]);
    expect([fde.format.binlogVersion, fde.format.serverVersion, fde.createdAt]).toEqual([
      4,
      '8.0.34',
      1690534733,
    ]);
    const tm = events.find((e) => e.header.position === 3040862);
    if (tm?.kind !== 'table-map') throw new Error('no TABLE_MAP at 3040862');
    expect([tm.header.timestamp, tm.header.length, tm.header.nextPosition]).toEqual([
      1690534744, 61, 3040923,
    ]);
    expect([tm.table.tableId, tm.table.flags, tm.table.database, tm.table.table]).toEqual([
      113,
      1,
      'test',
      't1',
    ]);
    expect(tm.table.columns.map((c) => c.type)).toEqual([3, 15, 10, 19, 18]);
    expect(tm.table.columns.map((c) => c.meta)).toEqual([0, 200, 0, 0, 0]);
    expect(tm.table.columns.map((c) => c.nullable)).toEqual([false, true, true, true, true]);
    expect(tm.table.columns[0]?.unsigned).toBe(false);
    expect(tm.table.columns[1]?.charset).toBe(255);
  });

  test('TABLE_MAP optional metadata: names, visibility, ENUM/SET values, vector dimensions, primary key', async () => {
    const enumSet = (await decode(join(FIXTURES, 'mysql-enum-string-set.000001'))).events.find(
      (e) => e.kind === 'table-map',
    );
    if (enumSet?.kind !== 'table-map') throw new Error('no TABLE_MAP');
    const cols = enumSet.table.columns;
    expect(cols.map((c) => c.name)).toEqual(['f1', 'f2', 'f3', 'f4', 'f5']);
    expect(cols[2]?.enumValues).toEqual(['var1', 'variant2', 'foo']);
    expect(cols[3]?.setValues).toEqual(['one', 'two', 'three', 'four']);
    expect(cols[0]?.meta).toBe(0xde00);

    const vector = (await decode(join(FIXTURES, 'vector.binlog'))).events.filter(
      (e) => e.kind === 'table-map',
    );
    const dims = (name: string) => {
      const tm = vector.find((e) => e.kind === 'table-map' && e.table.table === name);
      if (tm?.kind !== 'table-map') throw new Error(name);
      return [
        tm.table.columnExtras?.flatMap((x) => (x.vectorDimensions === undefined ? [] : [x.vectorDimensions])),
        tm.table.primaryKey,
      ];
    };
    expect(dims('foo')).toEqual([[3], [0]]);
    expect(dims('bar')).toEqual([[2, 4], [0]]);

    const invisible = (await decode(join(FIXTURES, 'binlog-invisible-columns.000001'))).events.find(
      (e) => e.kind === 'table-map',
    );
    if (invisible?.kind !== 'table-map') throw new Error('no TABLE_MAP');
    expect(invisible.table.columns.map((c) => c.visible)).toEqual([false, false, true, true, true, false]);
    expect(invisible.table.columns.map((c) => c.unsigned)).toEqual([
      true,
      true,
      false,
      undefined,
      undefined,
      true,
    ]);
  });

  test('bin-log.000001: the first WRITE_ROWS belongs to GTID ...:14918 at 1550192291', async () => {
    const txs = await transactionsOf(join(FIXTURES, 'bin-log.000001'));
    expect(txs[0]?.statements[0]).toBe(
      'CREATE TABLE foo(id BIGINT AUTO_INCREMENT PRIMARY KEY, val_decimal DECIMAL(10, 5) NOT NULL, comment VARCHAR(255) NOT NULL)',
    );
    expect(txs[1]?.gtid).toBe('87cee3a4-6b31-11e7-bdfd-0d98d6698870:14918');
    expect([txs[1]?.ts, txs[1]?.tsSource]).toEqual([1550192291, 'statement-start']);
    expect(txs[1]?.rows).toEqual({ 'bltest.foo': { insert: 1, update: 0, delete: 0 } });
  });

  test('pbs: the UPDATE maps ids 1,2,3 to 101,102,103 and the DELETE removes 4,5,6', async () => {
    const changes: [string, unknown, unknown][] = [];
    for await (const c of readRowChanges(readBinlog({ files: [join(FIXTURES, 'pbs-gtid-binlog.000002')] }))) {
      changes.push([c.op, c.before?.[0], c.after?.[0]]);
    }
    expect(changes).toEqual([
      ['update', 1, 101],
      ['update', 2, 102],
      ['update', 3, 103],
      ['delete', 4, undefined],
      ['delete', 5, undefined],
      ['delete', 6, undefined],
    ]);
  });

  test('pso-binlog.000003 cut at its last XID: the open transaction started at 198', async () => {
    const bytes = readFileSync(join(FIXTURES, 'pso-binlog.000003'));
    const { events } = await decode(join(FIXTURES, 'pso-binlog.000003'));
    const xid = events.find((e) => e.kind === 'xid');
    const cut = join(tmp, 'pso-cut.000003');
    writeFileSync(cut, bytes.subarray(0, xid?.header.position));
    const txs = await transactionsOf(cut);
    expect(txs.map((t) => [t.start, t.complete])).toEqual([[198, false]]);
  });

  test('a fixture read as a directory: pbs-gtid files in sequence', async () => {
    const dir = join(tmp, 'pbs');
    execFileSync('mkdir', ['-p', dir]);
    for (const n of ['000001', '000002']) {
      writeFileSync(join(dir, `binlog.${n}`), readFileSync(join(FIXTURES, `pbs-gtid-binlog.${n}`)));
    }
    const gtids: (string | undefined)[] = [];
    for await (const tx of readTransactions(readBinlog({ dir }))) gtids.push(tx.gtid?.split(':')[1]);
    expect(gtids).toEqual(['1', '2', '3', '4', '5', '6']);
  });
});
