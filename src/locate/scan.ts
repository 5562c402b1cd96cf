/**
 * One pass over a binlog for locate: transactions with their cut points (file
 * position and GTID state before and after), the transaction that wrote a
 * given history row, and the transactions just before it. Memory stays
 * bounded: only a window of recent transactions and the best candidates are
 * kept.
 */
import {
  type BinlogEvent,
  rowsOf,
  type TableMapDetails,
  type Transaction,
  TransactionAssembler,
  type Value,
} from '../binlog/index.js';
import { type GtidTracker, gtidTrackerFor } from './gtid-tracker.js';
import type { BinlogRange, Cut, CutCoordinates } from './types.js';

/** A transaction as read, with the cut around it. */
export interface ScannedTransaction {
  readonly transaction: Transaction;
  readonly cut: Cut;
}

/** The history row to look for: its table and the values of its identifying columns. */
export interface HistoryRowKey {
  readonly schema: string;
  readonly table: string;
  /** Column index in the row image → the value it must hold (as text). */
  readonly values: ReadonlyMap<number, string>;
}

export interface ScanOptions {
  /** Migration mode: find the last transaction writing this row. */
  readonly historyRow?: HistoryRowKey;
  /** How many transactions before the history row to keep (the migration run's window). */
  readonly window?: number;
  /** Every transaction, once its cut is known (grep/table modes keep their best here). */
  readonly onTransaction?: (scanned: ScannedTransaction) => void;
}

export interface ScanResult {
  readonly range: BinlogRange;
  /** Migration mode: the transaction that last wrote the history row. */
  readonly anchor?: ScannedTransaction;
  /** Migration mode: the transactions before the anchor, oldest first (up to `window`). */
  readonly before: readonly ScannedTransaction[];
}

const DEFAULT_WINDOW = 2000;

/** Reads the events once; see ScanOptions for what it collects. */
export async function scanBinlog(
  events: AsyncIterable<BinlogEvent>,
  source: BinlogRange['source'],
  options: ScanOptions = {},
): Promise<ScanResult> {
  const assembler = new TransactionAssembler(true);
  const window = options.window ?? DEFAULT_WINDOW;
  const recent: ScannedTransaction[] = [];
  let state: GtidTracker | undefined;
  let first: BinlogRange['first'];
  let last: BinlogRange['last'];
  let count = 0;
  let earlier = false;
  /** Start of the transaction in progress when the history row was seen in it. */
  let anchorAt: { file: string; start: number } | undefined;
  let anchor: ScannedTransaction | undefined;
  let before: ScannedTransaction[] = [];

  const complete = (tx: Transaction): void => {
    const gtidBefore = state?.text();
    if (tx.gtid !== undefined) {
      state ??= gtidTrackerFor(tx.gtid.includes(':') ? 'mysql' : 'mariadb');
      state.add(tx.gtid);
    }
    const scanned: ScannedTransaction = {
      transaction: tx,
      cut: {
        transaction: tx.gtid,
        before: cutSide(tx, 'before', gtidBefore),
        after: cutSide(tx, 'after', state?.text()),
      },
    };
    count++;
    last = { file: tx.file, position: tx.end, ts: tx.ts };
    options.onTransaction?.(scanned);
    if (!options.historyRow) return;
    if (anchorAt && anchorAt.file === tx.file && anchorAt.start === tx.start) {
      anchor = scanned;
      before = [...recent];
      anchorAt = undefined;
    }
    recent.push(scanned);
    if (recent.length > window) recent.shift();
  };

  for await (const event of events) {
    if (first === undefined && event.header.timestamp > 0) {
      first = { file: event.header.file, position: event.header.position, ts: event.header.timestamp };
      earlier = Number(/\.(\d+)$/.exec(first.file)?.[1] ?? 1) > 1;
    }
    const inFirstFile = first === undefined || event.header.file === first.file;
    if (event.kind === 'mariadb-gtid-list') {
      state ??= gtidTrackerFor('mariadb');
      state.seed(event.gtids);
      if (inFirstFile && count === 0 && event.gtids.length > 0) earlier = true;
    } else if (event.kind === 'previous-gtids') {
      state ??= gtidTrackerFor('mysql');
      state.seed(event.gtidSet === '' ? [] : event.gtidSet.split(','));
      if (inFirstFile && count === 0 && event.gtidSet !== '') earlier = true;
    }
    const done = assembler.push(event);
    if (done) complete(done);
    if (event.kind === 'rows' && options.historyRow && writesHistoryRow(event, options.historyRow)) {
      const current = assembler.current;
      if (current) anchorAt = { file: current.file, start: current.start };
    }
  }
  const rest = assembler.finish();
  if (rest) complete(rest);
  return { range: { source, first, last, transactions: count, earlier }, anchor, before };
}

/** One side of the cut around `tx`: restore's cut point, its file position and the GTID state there. */
function cutSide(tx: Transaction, kind: 'before' | 'after', gtidState: string | undefined): CutCoordinates {
  const position = kind === 'before' ? tx.start : tx.end;
  return {
    point: tx.gtid === undefined ? { kind: 'position', file: tx.file, position } : { kind, gtid: tx.gtid },
    file: tx.file,
    position,
    transaction: tx,
    gtidState: gtidState || undefined,
  };
}

function writesHistoryRow(event: BinlogEvent & { kind: 'rows' }, key: HistoryRowKey): boolean {
  const table = event.table as TableMapDetails;
  if (table.database !== key.schema || table.table !== key.table) return false;
  if (event.op === 'delete') return false;
  return rowsOf(event).some(
    (row) =>
      row.after !== undefined && [...key.values].every(([i, want]) => valueText(row.after?.[i]) === want),
  );
}

function valueText(value: Value | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (typeof value === 'object') return undefined;
  return String(value);
}
