/**
 * What the bad transactions did, per table: rows inserted, updated and
 * deleted, and for updates which columns changed and how ("status: 'paid' →
 * 'void' (3,120 rows)", "email → NULL (4,000 rows)").
 */
import type { Value } from '../binlog/types.js';
import { displayColumnValue, sameValue, valueKey } from './rows.js';
import type { ColumnFacts } from './tables.js';
import type { BadChange } from './trace.js';

export interface ColumnChange {
  readonly column: string;
  /** Rows whose value of this column changed. */
  readonly rows: number;
  /** The most frequent old → new pairs, most rows first. */
  readonly transitions: readonly { readonly from: unknown; readonly to: unknown; readonly rows: number }[];
  /** Distinct pairs beyond those tracked (the count is a lower bound when true). */
  readonly more: boolean;
}

export interface TableImpact {
  readonly table: string;
  readonly inserted: number;
  readonly updated: number;
  readonly deleted: number;
  readonly columns: readonly ColumnChange[];
}

/** Distinct old → new pairs tracked per column: a bad UPDATE of millions of rows stays small. */
const MAX_TRANSITIONS = 1000;
const SHOWN_TRANSITIONS = 5;

export function summarizeChanges(changes: readonly BadChange[]): TableImpact[] {
  const tables = new Map<
    string,
    { inserted: number; updated: number; deleted: number; columns: Map<string, ColumnTally> }
  >();
  for (const { table, change } of changes) {
    const name = `${table.schema}.${table.table}`;
    let tally = tables.get(name);
    if (!tally) {
      tally = { inserted: 0, updated: 0, deleted: 0, columns: new Map() };
      tables.set(name, tally);
    }
    if (change.kind === 'insert') tally.inserted++;
    else if (change.kind === 'delete') tally.deleted++;
    else {
      tally.updated++;
      for (const column of table.columns) {
        const from = change.before?.[column.index];
        const to = change.after?.[column.index];
        if (sameValue(from, to)) continue;
        let columnTally = tally.columns.get(column.name);
        if (!columnTally) {
          columnTally = { column, rows: 0, pairs: new Map(), more: false };
          tally.columns.set(column.name, columnTally);
        }
        columnTally.rows++;
        countTransition(columnTally, from, to);
      }
    }
  }
  return [...tables].map(([table, t]) => ({
    table,
    inserted: t.inserted,
    updated: t.updated,
    deleted: t.deleted,
    columns: [...t.columns].map(([column, c]) => ({
      column,
      rows: c.rows,
      transitions: [...c.pairs.values()]
        .sort((a, b) => b.rows - a.rows)
        .slice(0, SHOWN_TRANSITIONS)
        .map((p) => ({
          from: displayColumnValue(c.column, p.from),
          to: displayColumnValue(c.column, p.to),
          rows: p.rows,
        })),
      more: c.more || c.pairs.size > SHOWN_TRANSITIONS,
    })),
  }));
}

interface ColumnTally {
  column: ColumnFacts;
  rows: number;
  pairs: Map<string, { from: Value | undefined; to: Value | undefined; rows: number }>;
  more: boolean;
}

function countTransition(tally: ColumnTally, from: Value | undefined, to: Value | undefined): void {
  const key = `${valueKey(from)}→${valueKey(to)}`;
  const pair = tally.pairs.get(key);
  if (pair) pair.rows++;
  else if (tally.pairs.size < MAX_TRANSITIONS) tally.pairs.set(key, { from, to, rows: 1 });
  else tally.more = true;
}

/** Human lines for one table: "app.users: 4,000 updated — email → NULL (4,000 rows)". */
export function describeTableImpact(impact: TableImpact): string[] {
  const counts = [
    impact.inserted ? `${fmt(impact.inserted)} inserted` : '',
    impact.updated ? `${fmt(impact.updated)} updated` : '',
    impact.deleted ? `${fmt(impact.deleted)} deleted` : '',
  ].filter(Boolean);
  const lines = [`${impact.table}: ${counts.join(', ') || 'no rows'}`];
  for (const column of impact.columns) {
    const top = column.transitions[0];
    if (column.transitions.length === 1 && top && !column.more) {
      lines.push(`  ${column.column}: ${show(top.from)} → ${show(top.to)} (${fmt(top.rows)} rows)`);
      continue;
    }
    lines.push(`  ${column.column}: ${fmt(column.rows)} rows changed`);
    for (const t of column.transitions)
      lines.push(`    ${show(t.from)} → ${show(t.to)} (${fmt(t.rows)} rows)`);
    if (column.more) lines.push('    ...');
  }
  return lines;
}

function show(value: unknown): string {
  if (value === null) return 'NULL';
  if (typeof value === 'string' && !value.startsWith('0x')) {
    return `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
  }
  return String(value);
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}
