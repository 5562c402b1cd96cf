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
import { type SqlBytes, SqlWriter, sqlText } from './sql-text.js';

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
  /** The same SQL as UTF-8 bytes, the form the script holds. */
  readonly sqlBytes: SqlBytes;
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

/** Where compensating statements are written (slabs of SQL bytes, see sql-text.ts). */
const statementText = new SqlWriter();

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
  #bytes: SqlBytes | undefined;

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

  get sqlBytes(): SqlBytes {
    if (this.#bytes === undefined) {
      statementText.begin();
      try {
        writeStatement(statementText, this.table, this.#inverse, this.#mode, this.#set);
      } catch (error) {
        statementText.discard();
        throw error;
      }
      this.#bytes = statementText.end();
    }
    return this.#bytes;
  }

  get sql(): string {
    return sqlText(this.sqlBytes);
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
  return textOf((out) => writeStatement(out, table, change, mode, set));
}

/** What `write` writes, as text (undefined when it says it wrote nothing), leaving nothing in the slabs. */
function textOf(write: (out: SqlWriter) => boolean): string | undefined {
  statementText.begin();
  try {
    return write(statementText) ? sqlText(statementText.end()) : undefined;
  } finally {
    statementText.discard();
  }
}

/** writeChange into `out`; false (and nothing usable written) when the change changes nothing. */
function writeStatement(
  out: SqlWriter,
  table: TableFacts,
  change: ChangedRow,
  mode: GuardMode,
  set?: readonly ColumnFacts[],
): boolean {
  const writing = written(table);
  const { name, literals } = writing;
  if (change.kind === 'insert') {
    const after = change.after ?? [];
    // Forcing over a row that came back since means replacing it.
    out.text(mode === 'forced' && table.address.kind !== 'row' ? 'REPLACE INTO ' : 'INSERT INTO ');
    out.text(name);
    out.text(' (');
    out.text(writing.list);
    out.text(') VALUES (');
    const columns = writing.columns;
    for (let i = 0; i < columns.length; i++) {
      const c = columns[i] as ColumnFacts;
      if (i > 0) out.text(', ');
      (literals[c.index] as ColumnLiterals).value(out, after[c.index]);
    }
    out.text(');');
    return true;
  }
  if (change.kind === 'update') {
    const after = change.after ?? [];
    const columns = set ?? changedColumns(table, change);
    if (columns.length === 0) return false;
    out.text('UPDATE ');
    out.text(name);
    out.text(' SET ');
    for (let i = 0; i < columns.length; i++) {
      const c = columns[i] as ColumnFacts;
      if (i > 0) out.text(', ');
      out.text(writing.names[c.index] as string);
      out.text(' = ');
      (literals[c.index] as ColumnLiterals).value(out, after[c.index]);
    }
  } else {
    out.text('DELETE FROM ');
    out.text(name);
  }
  out.text(' WHERE ');
  writeCondition(out, table, change.before ?? [], mode);
  out.text(' LIMIT 1;');
  return true;
}

/**
 * The WHERE that finds the row holding `image`: the key columns first (so an
 * index serves it), then, when guarded, every column compared exactly.
 */
export function rowCondition(table: TableFacts, image: RowImage, mode: GuardMode): string {
  return textOf((out) => {
    writeCondition(out, table, image, mode);
    return true;
  }) as string;
}

/** rowCondition, written into `out`. */
function writeCondition(out: SqlWriter, table: TableFacts, image: RowImage, mode: GuardMode): void {
  let first = true;
  const and = (): void => {
    if (!first) out.text(' AND ');
    first = false;
  };
  const keyed = table.address.kind !== 'row';
  const { columns, literals } = written(table);
  if (table.address.kind !== 'row') {
    for (const index of table.address.columns) {
      const literal = literals[index];
      if (literal === undefined) continue;
      and();
      literal.key(out, image[index]);
    }
  }
  if (mode === 'guarded' || !keyed) {
    for (let i = 0; i < columns.length; i++) {
      const column = columns[i] as ColumnFacts;
      and();
      (literals[column.index] as ColumnLiterals).exact(out, image[column.index]);
    }
  }
}

/** The WHERE that finds the row by its key alone (keyed tables), for reading its current value. */
export function keyCondition(table: TableFacts, image: RowImage): string {
  return rowCondition(table, image, 'forced');
}
