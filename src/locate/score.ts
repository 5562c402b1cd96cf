/**
 * Why a transaction looks like the bad change, as a score and reasons in
 * words. What hurts data most weighs most: UPDATE/DELETE without WHERE, DDL
 * that drops data, many rows changed; then closeness to the migration's
 * history row and the same connection.
 */
import type { Transaction } from '../binlog/index.js';
import { classifyStatement } from '../impact/index.js';
import { totalRows } from './types.js';

/** What the ranking knows beyond the transaction itself. */
export interface ScoreContext {
  /** `db.table` whose rows are bookkeeping, not damage (the history table). */
  readonly ignoreTable?: string;
  /** Migration mode: how many transactions of the run lie between it and the history row (0 = adjacent). */
  readonly distance?: number;
  /** Migration mode: the history row's transaction itself. */
  readonly isAnchor?: boolean;
  /** Migration mode: the history row's thread, when the binlog says it. */
  readonly anchorThread?: number;
  readonly label?: string;
  /** Grep mode. */
  readonly grep?: RegExp;
  /** Table mode: the table asked about. */
  readonly table?: string;
}

export interface Score {
  readonly score: number;
  readonly why: string[];
}

const WEIGHT = {
  rowsPerDecade: 10,
  noWhere: 40,
  lossyDdl: 35,
  otherDdl: 5,
  closeness: 15,
  sameThread: 10,
  grepMatch: 20,
} as const;

/** Scores one transaction as a candidate for the bad change. */
export function scoreTransaction(tx: Transaction, context: ScoreContext): Score {
  const weighted: { points: number; reason: string }[] = [];
  const rows = totalRows(tx.rows, context.ignoreTable);
  if (rows > 0) {
    weighted.push({
      points: WEIGHT.rowsPerDecade * Math.log10(1 + rows),
      reason: `changed ${rows} row${rows === 1 ? '' : 's'}: ${describeRows(tx, context.ignoreTable)}`,
    });
  }
  if (context.table !== undefined) {
    const c = tx.rows[context.table];
    const n = c ? c.insert + c.update + c.delete : 0;
    if (n > 0)
      weighted.push({
        points: WEIGHT.rowsPerDecade * Math.log10(1 + n),
        reason: `${n} of them in ${context.table}`,
      });
  }
  for (const statement of tx.statements) {
    const text = withoutComments(statement);
    const unbounded = /^(UPDATE|DELETE)\b/i.exec(text);
    if (unbounded && !/\bWHERE\b/i.test(text)) {
      weighted.push({
        points: WEIGHT.noWhere,
        reason: `${(unbounded[1] as string).toUpperCase()} without WHERE: ${shorten(text, 60)}`,
      });
    }
    const ddl = classifyStatement(tx.gtid ?? '', '', text);
    if (ddl && ddl.kind !== 'other') {
      weighted.push({
        points: WEIGHT.lossyDdl,
        reason: `${ddl.kind.replace('-', ' ')} loses ${ddl.loss}: ${shorten(text, 60)}`,
      });
    } else if (ddl) {
      weighted.push({ points: WEIGHT.otherDdl, reason: `schema change: ${shorten(text, 60)}` });
    }
    if (context.grep?.test(statement)) {
      weighted.push({
        points: WEIGHT.grepMatch,
        reason: `statement matches /${context.grep.source}/: ${shorten(text, 60)}`,
      });
    }
  }
  if (context.distance !== undefined) {
    const n = context.distance;
    const where = context.isAnchor
      ? `in the same transaction as the history row of ${context.label}`
      : n === 0
        ? `just before the history row of ${context.label}`
        : `in the run of ${context.label}, ${n + 1} transactions before its history row`;
    weighted.push({ points: WEIGHT.closeness / (1 + (context.distance ?? 0)), reason: where });
  }
  if (context.anchorThread !== undefined && tx.threadId === context.anchorThread) {
    weighted.push({
      points: WEIGHT.sameThread,
      reason: `same connection (thread ${tx.threadId}) as the history row`,
    });
  }
  weighted.sort((a, b) => b.points - a.points);
  const score = weighted.reduce((sum, w) => sum + w.points, 0);
  return { score: Math.round(score * 10) / 10, why: weighted.map((w) => w.reason) };
}

/** `app.users 40 updated, app.log 1 inserted`. */
export function describeRows(tx: Transaction, ignoreTable?: string): string {
  return Object.entries(tx.rows)
    .filter(([table]) => table !== ignoreTable)
    .map(([table, c]) => {
      const parts = [
        c.insert > 0 ? `${c.insert} inserted` : '',
        c.update > 0 ? `${c.update} updated` : '',
        c.delete > 0 ? `${c.delete} deleted` : '',
      ].filter((p) => p !== '');
      return `${table} ${parts.join(', ')}`;
    })
    .join('; ');
}

function withoutComments(statement: string): string {
  return statement
    .replace(/\/\*(?!!)[\s\S]*?\*\//g, ' ')
    .replace(/^\s*(--|#).*$/gm, ' ')
    .trim();
}

/** One line of at most `max` characters. */
export function shorten(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}
