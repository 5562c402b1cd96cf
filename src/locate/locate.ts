/**
 * Finding the bad change: from a migration id (through the migration tool's
 * history table and the binlog row that recorded it), from statement text,
 * or from a table and a time window. Candidates come ranked, best first,
 * each with its reasons and exact cut points.
 */
import {
  type BinlogEvent,
  type BinlogInput,
  type BinlogNotice,
  type FileSelection,
  readBinlog,
} from '../binlog/index.js';
import { SalvageError } from '../errors.js';
import { type ConnectTarget, withConnection } from '../mysql/index.js';
import { formatInstant } from '../timeline/index.js';
import {
  findHistoryTables,
  HISTORY_ADAPTERS,
  type MigrationRecord,
  readMigrationRecords,
  unknownShapeError,
} from './history.js';
import { findMigration } from './match.js';
import { type HistoryRowKey, type ScannedTransaction, scanBinlog } from './scan.js';
import { type ScoreContext, scoreTransaction } from './score.js';
import type { BinlogRange, Candidate, LocateResult, LocateWarning } from './types.js';

/** What to look for. */
export type LocateQuery =
  | { readonly kind: 'migration'; readonly id: string }
  | { readonly kind: 'grep'; readonly pattern: RegExp }
  | { readonly kind: 'table'; readonly table: string; readonly since?: number; readonly until?: number };

export interface LocateOptions {
  /** The server: its history tables (--migration), and its binlog when no files are given. */
  readonly source?: ConnectTarget;
  /** Binlog files or a directory to read instead of the server's binlog. */
  readonly binlog?: FileSelection;
  readonly query: LocateQuery;
  /** Candidates returned (default 10). */
  readonly limit?: number;
  /** Zone used in messages about times (default UTC). */
  readonly zone?: string;
  readonly onNotice?: (notice: BinlogNotice) => void;
}

const DEFAULT_LIMIT = 10;

/** Ranked candidates for the bad change; throws when there is none (see LocateQuery for each mode). */
export async function locate(options: LocateOptions): Promise<LocateResult> {
  const input = binlogInput(options);
  const source: BinlogRange['source'] = 'server' in input ? 'server' : 'files';
  const events = (): AsyncIterable<BinlogEvent> => readBinlog(input, { onNotice: options.onNotice });
  const limit = options.limit ?? DEFAULT_LIMIT;
  const zone = options.zone ?? 'UTC';
  const { query } = options;
  if (query.kind === 'migration') return locateMigration(options, query.id, events(), source, limit, zone);

  const context: ScoreContext = query.kind === 'grep' ? { grep: query.pattern } : { table: query.table };
  const best = topCandidates(limit);
  const { range } = await scanBinlog(events(), source, {
    onTransaction: (scanned) => {
      const tx = scanned.transaction;
      if (query.kind === 'grep' && !tx.statements.some((s) => query.pattern.test(s))) return;
      if (query.kind === 'table') {
        if (!(query.table in tx.rows)) return;
        if (query.since !== undefined && tx.ts < query.since) return;
        if (query.until !== undefined && tx.ts > query.until) return;
      }
      best.offer(candidateOf(scanned, context));
    },
  });
  const warnings: LocateWarning[] = [];
  const since = query.kind === 'table' ? query.since : undefined;
  if (since !== undefined && range.first !== undefined && range.earlier && since < range.first.ts) {
    warnings.push(purgedWindow(range, `--since ${formatInstant(since, zone)}`, zone));
  }
  const candidates = best.sorted();
  if (candidates.length === 0) {
    const what =
      query.kind === 'grep'
        ? `no statement matches /${query.pattern.source}/`
        : `no transaction changed rows of ${query.table}${windowText(query, zone)}`;
    throw new SalvageError(
      'NO_MATCH',
      `${what} in the binlogs read (${describeRange(range, zone)})${warnings.map((w) => `; ${w.message}`).join('')}`,
      { hint: warnings[0]?.hint ?? noMatchHint(query.kind) },
    );
  }
  return { candidates, range, warnings };
}

async function locateMigration(
  options: LocateOptions,
  id: string,
  events: AsyncIterable<BinlogEvent>,
  source: BinlogRange['source'],
  limit: number,
  zone: string,
): Promise<LocateResult> {
  if (!options.source) {
    throw new SalvageError(
      'USAGE',
      '--migration needs --source DSN: the migration history is read from the server',
    );
  }
  const record = await readMigration(options.source, id);
  const { history } = record;
  const historyTable = `${history.schema}.${history.table}`;
  const scan = await scanBinlog(events, source, { historyRow: historyRowKey(record) });
  if (!scan.anchor) throw historyRowMissing(record, scan.range, zone);
  const anchor = scan.anchor.transaction;
  const run = migrationRun(scan.before, scan.anchor, historyTable);
  const label = `${record.label} (${history.adapter.tool})`;
  const scored = run.members.map(({ scanned, distance }) =>
    candidateOf(scanned, {
      ignoreTable: historyTable,
      distance,
      isAnchor: scanned === scan.anchor,
      anchorThread: anchor.threadId,
      label,
    }),
  );
  const warnings: LocateWarning[] = [];
  if (!run.bounded) {
    warnings.push({
      message: `no earlier write to ${historyTable} was found in the binlogs read, so where the run of ${label} began is not known; the ${run.members.length} transactions before its history row were ranked`,
      hint: 'Check the candidates against the migration script, or read older binlogs with --dir DIR.',
    });
  }
  const candidates = scored.sort(byScore).slice(0, limit);
  if (candidates.length === 0) {
    throw new SalvageError(
      'NO_MATCH',
      `the history row of ${label} is at ${anchor.file}:${anchor.start}, but no transaction of its run changed anything`,
      { hint: 'The migration changed nothing the binlog records; look with --grep or --table instead.' },
    );
  }
  return {
    candidates,
    range: scan.range,
    warnings,
    migration: {
      tool: history.adapter.tool,
      table: historyTable,
      label: record.label,
      gtid: anchor.gtid,
      file: anchor.file,
      position: anchor.start,
    },
  };
}

async function readMigration(target: ConnectTarget, id: string): Promise<MigrationRecord> {
  return withConnection(target, async (conn) => {
    const schema = target.dsn.database;
    const { tables, unknown } = await findHistoryTables(conn, schema);
    if (tables.length === 0 && unknown.length === 0) {
      const names = [...new Set(HISTORY_ADAPTERS.map((a) => a.table))].join(', ');
      throw new SalvageError(
        'MIGRATION_HISTORY_NOT_FOUND',
        `no migration history table in ${schema === undefined ? 'any database' : `database ${schema}`}: looked for ${names}`,
      );
    }
    const records: MigrationRecord[] = [];
    for (const table of tables) records.push(...(await readMigrationRecords(conn, table)));
    try {
      return findMigration(records, id);
    } catch (error) {
      // The migration may be in the table salvage cannot read: that is the thing to fix first.
      if (unknown.length > 0 && error instanceof SalvageError && error.code === 'MIGRATION_NOT_FOUND') {
        throw unknownShapeError(unknown);
      }
      throw error;
    }
  });
}

function historyRowKey(record: MigrationRecord): HistoryRowKey {
  const { history } = record;
  const values = new Map<number, string>();
  for (const column of history.adapter.rowKey) {
    const index = history.columns.findIndex((c) => c.toLowerCase() === column);
    const value = record.row[column];
    if (index >= 0 && value !== null && value !== undefined) values.set(index, String(value));
  }
  return { schema: history.schema, table: history.table, values };
}

/**
 * The transactions of the migration's run: before the history row, back to
 * the previous write to the history table, on the same connection when the
 * binlog says which (MariaDB logs the thread only with statements, not with
 * row events, so an unknown thread is not a different one).
 */
function migrationRun(
  before: readonly ScannedTransaction[],
  anchor: ScannedTransaction,
  historyTable: string,
): { members: { scanned: ScannedTransaction; distance: number }[]; bounded: boolean } {
  const a = anchor.transaction;
  const members: { scanned: ScannedTransaction; distance: number }[] = [];
  if (
    Object.keys(a.rows).some((t) => t !== historyTable) ||
    a.statements.some((s) => !mentions(s, historyTable))
  ) {
    members.push({ scanned: anchor, distance: 0 });
  }
  let bounded = false;
  for (let i = before.length - 1; i >= 0; i--) {
    const scanned = before[i] as ScannedTransaction;
    const tx = scanned.transaction;
    if (historyTable in tx.rows) {
      bounded = true;
      break;
    }
    if (tx.serverId !== a.serverId) continue;
    if (a.threadId !== undefined && tx.threadId !== undefined && tx.threadId !== a.threadId) continue;
    members.push({ scanned, distance: members.filter((m) => m.scanned !== anchor).length });
  }
  return { members, bounded };
}

function mentions(statement: string, table: string): boolean {
  const name = table.split('.')[1] ?? table;
  return statement.toLowerCase().includes(name.toLowerCase());
}

function historyRowMissing(record: MigrationRecord, range: BinlogRange, zone: string): SalvageError {
  const label = `${record.label} (${record.history.adapter.tool})`;
  const read = `the binlogs read (${describeRange(range, zone)})`;
  const context = { migration: record.label, file: range.first?.file };
  if (
    range.first !== undefined &&
    range.earlier &&
    record.ranAt !== undefined &&
    record.ranAt <= range.first.ts
  ) {
    const where =
      range.source === 'server' ? 'the oldest binlog still on the server' : 'the first binlog given';
    return new SalvageError(
      'BINLOG_PURGED',
      `${label} ran at ${formatInstant(record.ranAt, zone)}, before ${where} (${range.first.file}) begins at ${formatInstant(range.first.ts, zone)}: ${range.source === 'server' ? 'the binlogs of that time were purged' : 'older binlogs are needed'}`,
      { context },
    );
  }
  const when = record.ranAt === undefined ? '' : ` (ran at ${formatInstant(record.ranAt, zone)})`;
  return new SalvageError(
    'MIGRATION_NOT_IN_BINLOG',
    `the history row of ${label}${when} is not in ${read}${range.earlier ? '; if it ran before them, older binlogs are needed' : ''}`,
    { context },
  );
}

function purgedWindow(range: BinlogRange, asked: string, zone: string): LocateWarning {
  const first = range.first as NonNullable<BinlogRange['first']>;
  const where =
    range.source === 'server' ? 'the oldest binlog still on the server' : 'the first binlog given';
  return {
    message: `${asked} is before ${where} (${first.file}, begins ${formatInstant(first.ts, zone)}): ${range.source === 'server' ? 'the binlogs of the earlier part of the window were purged' : 'the earlier part of the window was not read'}`,
    hint: 'Read the older binlogs from the archive (salvage binlog archive) with --dir DIR, or give the files with --binlog.',
  };
}

/** `binlog.000001:4 (2024-05-01 10:00:00 +00:00) to binlog.000003:1200 (...), 421 transactions`. */
export function describeRange(range: BinlogRange, zone: string): string {
  if (range.first === undefined || range.last === undefined) return 'no transactions';
  return `${range.first.file}:${range.first.position} (${formatInstant(range.first.ts, zone)}) to ${range.last.file}:${range.last.position} (${formatInstant(range.last.ts, zone)}), ${range.transactions} transactions`;
}

function windowText(query: LocateQuery & { kind: 'table' }, zone: string): string {
  const since = query.since === undefined ? '' : ` from ${formatInstant(query.since, zone)}`;
  const until = query.until === undefined ? '' : ` until ${formatInstant(query.until, zone)}`;
  return `${since}${until}`;
}

function noMatchHint(kind: LocateQuery['kind']): string {
  return kind === 'grep'
    ? 'Loosen the expression (it is case-insensitive), or look by --table db.t --since TIME.'
    : 'Check the table name (db.table) and the window; widen --since/--until.';
}

function binlogInput(options: LocateOptions): BinlogInput {
  if (options.binlog) return options.binlog;
  if (options.source) return { server: options.source, until: 'end' };
  throw new SalvageError('USAGE', 'give --source DSN, or binlog files with --binlog/--dir');
}

function candidateOf(scanned: ScannedTransaction, context: ScoreContext): Candidate {
  const { score, why } = scoreTransaction(scanned.transaction, context);
  return { transaction: scanned.transaction, score, why, cut: scanned.cut };
}

function byScore(a: Candidate, b: Candidate): number {
  return b.score - a.score || b.transaction.ts - a.transaction.ts;
}

/** The best `limit` candidates seen, without keeping the rest. */
function topCandidates(limit: number): { offer(candidate: Candidate): void; sorted(): Candidate[] } {
  const kept: Candidate[] = [];
  const prune = (): void => {
    kept.sort(byScore);
    kept.length = Math.min(kept.length, limit);
  };
  return {
    offer(candidate) {
      kept.push(candidate);
      if (kept.length > limit * 4) prune();
    },
    sorted() {
      prune();
      return kept;
    },
  };
}
