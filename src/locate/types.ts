/**
 * What locate answers with: candidate transactions for the bad change, best
 * first, and the exact cut points around the best one.
 */
import type { RowCounts, Transaction } from '../binlog/index.js';
import type { ResolvedCut } from '../restore/index.js';

/**
 * One side of a cut, as restore resolves cut points (the point to give
 * `restore`, and its file position), plus the GTID state executed there:
 * replaying up to `file:position`, or exactly the transactions in
 * `gtidState`, reaches the same state.
 */
export interface CutCoordinates extends ResolvedCut {
  /**
   * MariaDB a GTID position (`domain-server-seq` per domain, as
   * @@gtid_binlog_pos), MySQL a GTID set (as @@gtid_executed). Undefined
   * when the binlog has no GTIDs.
   */
  readonly gtidState: string | undefined;
}

/** The cut around one transaction: stop just before it, or just after it. */
export interface Cut {
  /** The transaction's own GTID (undefined without GTIDs). */
  readonly transaction: string | undefined;
  /** Just before the transaction: the state at its first event. */
  readonly before: CutCoordinates;
  /** Just after it: the state past its commit event. */
  readonly after: CutCoordinates;
}

/** A transaction that may be the bad change, with why it was ranked where it is. */
export interface Candidate {
  readonly transaction: Transaction;
  /** Higher is more likely the bad change. */
  readonly score: number;
  /** Reasons in words, strongest first. */
  readonly why: readonly string[];
  readonly cut: Cut;
}

/** The binlog range that was read, to say what was (and was not) looked at. */
export interface BinlogRange {
  /** Where the binlogs came from: the server, or the files/directory given. */
  readonly source: 'server' | 'files';
  readonly first: { readonly file: string; readonly position: number; readonly ts: number } | undefined;
  readonly last: { readonly file: string; readonly position: number; readonly ts: number } | undefined;
  readonly transactions: number;
  /**
   * Whether transactions were logged before the first binlog read: its GTID
   * list is not empty or its number is above 1. Then older binlogs exist or
   * existed (purged from the server, or not among the files given).
   */
  readonly earlier: boolean;
}

/** A warning that does not stop locate, with what to do about it. */
export interface LocateWarning {
  readonly message: string;
  readonly hint: string;
}

export interface LocateResult {
  /** Best first. Never empty: no candidate is an error. */
  readonly candidates: readonly Candidate[];
  readonly range: BinlogRange;
  readonly warnings: readonly LocateWarning[];
  /** For --migration: the history row the candidates were found from. */
  readonly migration?: MigrationAnchor;
}

/** The migration a --migration search resolved to and where its history row is in the binlog. */
export interface MigrationAnchor {
  readonly tool: string;
  /** `db.table` of the history table. */
  readonly table: string;
  /** How the migration reads in its tool's terms, e.g. `V3 backfill emails`. */
  readonly label: string;
  /** The transaction that wrote the history row. */
  readonly gtid: string | undefined;
  readonly file: string;
  readonly position: number;
}

/** Rows changed by a transaction, summed over tables and operations. */
export function totalRows(rows: Readonly<Record<string, Readonly<RowCounts>>>, except?: string): number {
  let n = 0;
  for (const [table, c] of Object.entries(rows)) if (table !== except) n += c.insert + c.update + c.delete;
  return n;
}
