/**
 * Compensating statements: the inverse of one row change. Each one is
 * guarded: it applies only while the row is still exactly what the bad
 * change left (every column of its after-image), so a row changed since is
 * left alone and shows up as a conflict instead of being overwritten.
 */
import type { RowImage } from '../binlog/types.js';
import type { BadChange, ChangedRow, ColumnFacts, TableFacts } from '../impact/index.js';
import { sameValue } from '../impact/index.js';
import { exactMatch, keyMatch, quotedName, valueLiteral } from './literal.js';

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
  if (inverse.kind === 'update' && changedColumns(bad.table, inverse).length === 0) return undefined;
  // Written when first read: the guard can run while the statements are written.
  let sql: string | undefined;
  return {
    gtid: bad.gtid,
    sequence: bad.sequence,
    table: bad.table,
    change: bad.change,
    kind: inverse.kind,
    get sql() {
      sql ??= writeChange(bad.table, inverse, mode) as string;
      return sql;
    },
    expect: inverse.before,
    restore: inverse.after,
  };
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

/** SQL that makes `change` on the live table; undefined when it changes nothing. */
export function writeChange(table: TableFacts, change: ChangedRow, mode: GuardMode): string | undefined {
  const name = quotedName(table);
  const written = table.columns.filter((c) => !c.generated);
  if (change.kind === 'insert') {
    const after = change.after ?? [];
    const columns = written.map(quotedName).join(', ');
    const values = written.map((c) => valueLiteral(table, c, after[c.index])).join(', ');
    // Forcing over a row that came back since means replacing it.
    const verb = mode === 'forced' && table.address.kind !== 'row' ? 'REPLACE' : 'INSERT';
    return `${verb} INTO ${name} (${columns}) VALUES (${values});`;
  }
  const before = change.before ?? [];
  const where = rowCondition(table, before, mode);
  if (change.kind === 'delete') return `DELETE FROM ${name} WHERE ${where} LIMIT 1;`;
  const after = change.after ?? [];
  const set = changedColumns(table, change).map(
    (c) => `${quotedName(c)} = ${valueLiteral(table, c, after[c.index])}`,
  );
  if (set.length === 0) return undefined;
  return `UPDATE ${name} SET ${set.join(', ')} WHERE ${where} LIMIT 1;`;
}

/**
 * The WHERE that finds the row holding `image`: the key columns first (so an
 * index serves it), then, when guarded, every column compared exactly.
 */
export function rowCondition(table: TableFacts, image: RowImage, mode: GuardMode): string {
  const keyed = table.address.kind !== 'row';
  const parts: string[] = [];
  if (table.address.kind !== 'row') {
    for (const index of table.address.columns) {
      const column = table.columns[index];
      if (column) parts.push(keyMatch(table, column, image[index]));
    }
  }
  if (mode === 'guarded' || !keyed) {
    for (const column of table.columns) {
      if (!column.generated) parts.push(exactMatch(table, column, image[column.index]));
    }
  }
  return parts.join(' AND ');
}

/** The WHERE that finds the row by its key alone (keyed tables), for reading its current value. */
export function keyCondition(table: TableFacts, image: RowImage): string {
  return rowCondition(table, image, 'forced');
}
