/**
 * Compensating statements: the inverse of one row change. Each one is
 * guarded: it applies only while the row is still exactly what the bad
 * change left (every column of its after-image), so a row changed since is
 * left alone and shows up as a conflict instead of being overwritten.
 */
import type { RowImage } from '../binlog/types.js';
import type { BadChange, ChangedRow, ColumnFacts, TableFacts } from '../impact/index.js';
import { sameValue } from '../impact/index.js';
import { type ColumnLiterals, columnLiterals, quotedName } from './literal.js';

/** One compensating statement and what it expects and leaves. */
export interface UndoStatement {
  /** The bad transaction whose change it reverses. */
  readonly gtid: string;
  readonly sequence: number;
  readonly table: TableFacts;
  /** The bad row change it reverses. */
  readonly change: ChangedRow;
  readonly kind: 'insert' | 'update' | 'delete';
  readonly sql: string;
  /** The image the row must hold before (the bad after-image); undefined when it must not exist. */
  readonly expect: RowImage | undefined;
  /** The image the row holds after (the bad before-image); undefined when it is deleted. */
  readonly restore: RowImage | undefined;
}

/** Guarded: compare every column of the after-image. Forced: find the row by key only and overwrite it. */
export type GuardMode = 'guarded' | 'forced';

/** The statement that reverses one bad row change; undefined for an update that changed nothing. */
export function compensate(bad: BadChange, mode: GuardMode = 'guarded'): UndoStatement | undefined {
  const inverse = invert(bad.change);
  const set = inverse.kind === 'update' ? changedColumns(bad.table, inverse) : undefined;
  if (set !== undefined && set.length === 0) return undefined;
  return new Compensation(bad, inverse, mode, set);
}

/**
 * An UndoStatement whose SQL is written when first read, so the guard can
 * run while the statements are written. A class, not an object literal with
 * a getter: an undo holds tens of thousands of them, and a literal's own
 * accessor costs each one a closure and a dictionary of its properties.
 */
class Compensation implements UndoStatement {
  readonly gtid: string;
  readonly sequence: number;
  readonly table: TableFacts;
  readonly change: ChangedRow;
  readonly kind: UndoStatement['kind'];
  readonly expect: RowImage | undefined;
  readonly restore: RowImage | undefined;
  #inverse: ChangedRow;
  #mode: GuardMode;
  #set: readonly ColumnFacts[] | undefined;
  #sql: string | undefined;

  constructor(bad: BadChange, inverse: ChangedRow, mode: GuardMode, set: readonly ColumnFacts[] | undefined) {
    this.gtid = bad.gtid;
    this.sequence = bad.sequence;
    this.table = bad.table;
    this.change = bad.change;
    this.kind = inverse.kind;
    this.expect = inverse.before;
    this.restore = inverse.after;
    this.#inverse = inverse;
    this.#mode = mode;
    this.#set = set;
  }

  get sql(): string {
    this.#sql ??= writeChange(this.table, this.#inverse, this.#mode, this.#set) as string;
    return this.#sql;
  }
}

/** The columns an update sets (generated ones are never written). */
function changedColumns(table: TableFacts, change: ChangedRow): readonly ColumnFacts[] {
  const before = change.before ?? [];
  const after = change.after ?? [];
  return table.columns.filter((c) => !c.generated && !sameValue(before[c.index], after[c.index]));
}

/** The change that takes the after-image back to the before-image. */
export function invert(change: ChangedRow): ChangedRow {
  if (change.kind === 'insert') return { kind: 'delete', table: change.table, before: change.after };
  if (change.kind === 'delete') return { kind: 'insert', table: change.table, after: change.before };
  return { kind: 'update', table: change.table, before: change.after, after: change.before };
}

/** What statements of one table are written from, worked out once per table. */
interface TableWriting {
  readonly name: string;
  /** The columns statements write (generated ones are computed), and their quoted list. */
  readonly columns: readonly ColumnFacts[];
  readonly list: string;
  /** Per column index: its quoted name, and its literals. */
  readonly names: readonly string[];
  readonly literals: readonly ColumnLiterals[];
}

const writings = new WeakMap<TableFacts, TableWriting>();

function written(table: TableFacts): TableWriting {
  let found = writings.get(table);
  if (found === undefined) {
    const columns = table.columns.filter((c) => !c.generated);
    found = {
      name: quotedName(table),
      columns,
      list: columns.map(quotedName).join(', '),
      names: table.columns.map(quotedName),
      literals: table.columns.map((c) => columnLiterals(table, c)),
    };
    writings.set(table, found);
  }
  return found;
}

/**
 * SQL that makes `change` on the live table; undefined when it changes
 * nothing. `set`: the columns an update changes, when already known.
 */
export function writeChange(
  table: TableFacts,
  change: ChangedRow,
  mode: GuardMode,
  set?: readonly ColumnFacts[],
): string | undefined {
  // One join at the end: the statement is one flat string, not a tree of pieces kept until the script is written.
  const sql: string[] = [];
  const writing = written(table);
  const { name, literals } = writing;
  if (change.kind === 'insert') {
    const after = change.after ?? [];
    // Forcing over a row that came back since means replacing it.
    sql.push(mode === 'forced' && table.address.kind !== 'row' ? 'REPLACE' : 'INSERT', ' INTO ', name);
    sql.push(' (', writing.list, ') VALUES (');
    for (const [i, c] of writing.columns.entries())
      sql.push(i === 0 ? '' : ', ', (literals[c.index] as ColumnLiterals).value(after[c.index]));
    sql.push(');');
    return sql.join('');
  }
  if (change.kind === 'update') {
    const after = change.after ?? [];
    sql.push('UPDATE ', name, ' SET ');
    const columns = set ?? changedColumns(table, change);
    if (columns.length === 0) return undefined;
    for (const [i, c] of columns.entries()) {
      const literal = (literals[c.index] as ColumnLiterals).value(after[c.index]);
      sql.push(i === 0 ? '' : ', ', writing.names[c.index] as string, ' = ', literal);
    }
  } else {
    sql.push('DELETE FROM ', name);
  }
  sql.push(' WHERE ');
  conditionParts(table, change.before ?? [], mode, sql);
  sql.push(' LIMIT 1;');
  return sql.join('');
}

/**
 * The WHERE that finds the row holding `image`: the key columns first (so an
 * index serves it), then, when guarded, every column compared exactly.
 */
export function rowCondition(table: TableFacts, image: RowImage, mode: GuardMode): string {
  return conditionParts(table, image, mode, []).join('');
}

/** rowCondition's pieces, appended to `out`. */
function conditionParts(table: TableFacts, image: RowImage, mode: GuardMode, out: string[]): string[] {
  const first = out.length;
  const and = (part: string): void => {
    out.push(out.length === first ? '' : ' AND ', part);
  };
  const keyed = table.address.kind !== 'row';
  const { columns, literals } = written(table);
  if (table.address.kind !== 'row') {
    for (const index of table.address.columns) {
      const literal = literals[index];
      if (literal) and(literal.key(image[index]));
    }
  }
  if (mode === 'guarded' || !keyed) {
    for (const column of columns) and((literals[column.index] as ColumnLiterals).exact(image[column.index]));
  }
  return out;
}

/** The WHERE that finds the row by its key alone (keyed tables), for reading its current value. */
export function keyCondition(table: TableFacts, image: RowImage): string {
  return rowCondition(table, image, 'forced');
}
