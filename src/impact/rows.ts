/**
 * Row identities: the key that finds a row again (its key columns, or every
 * column for a table without a key), as a string for maps and as an object
 * for reports.
 */
import { type RowsEvent, rowsOf, sameBytes } from '../binlog/index.js';
import type { RowImage, TableMap, Value } from '../binlog/types.js';
import type { ColumnFacts, TableFacts } from './tables.js';

/** One row change of a transaction, in binlog order. */
export interface ChangedRow {
  readonly kind: 'insert' | 'update' | 'delete';
  readonly table: TableMap;
  /** Delete and update: the row before. */
  readonly before?: RowImage;
  /** Insert and update: the row after. */
  readonly after?: RowImage;
}

/** The row changes of a rows event (bound to its TABLE_MAP by the event stream), decoded. */
export function changedRowsOf(event: RowsEvent): ChangedRow[] {
  const table = event.table as TableMap;
  return rowsOf(event).map((row) => ({ kind: event.op, table, before: row.before, after: row.after }));
}

/** A value as an unambiguous string: the type is part of it, so 1, '1' and X'31' differ. */
export function valueKey(value: Value | undefined): string {
  if (value === undefined) return 'u';
  if (value === null) return 'n';
  if (typeof value === 'number' || typeof value === 'bigint') return `i${value.toString()}`;
  if (typeof value === 'string') return `s${value.length}:${value}`;
  if (value instanceof Uint8Array) return `b${Buffer.from(value).toString('hex')}`;
  return `j${JSON.stringify(value.diffs)}`;
}

/** The columns that identify a row of this table: its key, or all of them. */
export function identityColumns(table: TableFacts): readonly number[] {
  return table.address.kind === 'row' ? table.columns.map((c) => c.index) : table.address.columns;
}

/** `schema.table|values of the identity columns`: equal for the same row of the same table. */
export function rowKey(table: TableFacts, image: RowImage): string {
  let key = `${table.schema}.${table.table}`;
  for (const index of identityColumns(table)) key += `|${valueKey(image[index])}`;
  return key;
}

/** The identity columns and their values, for reports. */
export function keyObject(table: TableFacts, image: RowImage): Record<string, unknown> {
  const key: Record<string, unknown> = {};
  for (const index of identityColumns(table)) {
    const column = table.columns[index];
    if (column) key[column.name] = displayColumnValue(column, image[index]);
  }
  return key;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A value for people: text the binlog kept as bytes (no charset in its
 * TABLE_MAP) shown as text when the live column is text and the bytes decode.
 */
export function displayColumnValue(column: ColumnFacts, value: Value | undefined): unknown {
  if (value instanceof Uint8Array && column.charset !== undefined) {
    if (column.charset === 'latin1') return Buffer.from(value).toString('latin1');
    if (/^(utf8|ascii)/.test(column.charset)) {
      try {
        return utf8.decode(value);
      } catch {
        // Not valid text: shown as bytes below.
      }
    }
  }
  return displayValue(value);
}

/** A value as JSON can carry it: bigints as strings, bytes as 0x-hex. */
export function displayValue(value: Value | undefined): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return `0x${Buffer.from(value).toString('hex')}`;
  if (typeof value === 'object') return { jsonDiff: value.diffs };
  return value;
}

function numeric(v: unknown): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint';
}

/** True when two values are the same (bytes by content): valueKey(a) === valueKey(b), without building either. */
export function sameValue(a: Value | undefined, b: Value | undefined): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array) return b instanceof Uint8Array && sameBytes(a, b);
  // Two numbers that are not === differ, NaN aside (its text is its own).
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  // 1 and 1n are the same integer; a string 'x' is never a number.
  if (numeric(a)) return numeric(b) && a.toString() === b.toString();
  if (a === undefined || a === null || b === undefined || b === null) return false;
  if (typeof a === 'string' || typeof b === 'string' || b instanceof Uint8Array || numeric(b)) return false;
  return valueKey(a) === valueKey(b);
}
