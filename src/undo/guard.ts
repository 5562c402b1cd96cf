/**
 * Does each row hold exactly a given image (or, with none, not exist)? The
 * conflict guard asks it before anything runs (still what the bad changes
 * left?), and the apply after the undo ran (back to the before-image?).
 *
 * Rows are read by key, a few thousand per query, and compared here with
 * the after-images, byte for byte in the form the server sends them
 * (liveForm): for those types equal bytes mean an equal value, so a match
 * is proof. Every row this cannot settle (a difference, a FLOAT column, a
 * key the server matched by collation) is asked of the server with the
 * same exact condition the statement carries, a few hundred per query.
 */

import type { RowImage } from '../binlog/index.js';
import type { ColumnFacts, TableFacts } from '../impact/index.js';
import { type Connection, queryRawRows, type RawRow } from '../mysql/index.js';
import { type Lookup, lookupEach } from './batch.js';
import {
  holdsLiveForm,
  keyLiteral,
  liveColumn,
  liveForm,
  liveInteger,
  quotedName,
  readLiveInteger,
} from './literal.js';
import { keyCondition, rowCondition } from './statements.js';

/** A row, found by `identity` (its key columns, or every column without a key), that must hold `holds` or not exist. */
export interface RowCheck {
  readonly table: TableFacts;
  readonly identity: RowImage;
  readonly holds: RowImage | undefined;
}

/** Keys per query of the fast path, and its query size, well under the smallest usual max_allowed_packet. */
const KEYS_PER_QUERY = 2000;
const MAX_QUERY_CHARS = 512 * 1024;
const QUERIES_IN_FLIGHT = 3;

/** For each check, whether its row holds the image (or is gone). */
export async function rowsHold(conn: Connection, firsts: readonly RowCheck[]): Promise<boolean[]> {
  const unchanged: (boolean | undefined)[] = firsts.map(() => undefined);
  for (const [table, indexes] of indexesByTable(firsts)) {
    const identity = (table.address.kind === 'row' ? [] : table.address.columns).map(
      (i) => table.columns[i] as ColumnFacts,
    );
    if (identity.length === 0) continue;
    // A few queries in flight: the server reads the next batch while this thread compares one.
    const reading: Promise<void>[] = [];
    for (const batch of batches(table, identity, firsts, indexes)) {
      reading.push(compareBatch(conn, table, identity, firsts, batch, unchanged));
      if (reading.length >= QUERIES_IN_FLIGHT) await reading.shift();
    }
    await Promise.all(reading);
  }
  const open = firsts.flatMap((_, index) => (unchanged[index] === undefined ? [index] : []));
  const found = await lookupEach(
    conn,
    open.map((index) => exactLookup(firsts[index] as RowCheck)),
  );
  for (const [n, index] of open.entries()) {
    unchanged[index] = isUnchanged(firsts[index] as RowCheck, found[n]?.[0]);
  }
  return unchanged.map((u) => u === true);
}

/** The indexes of `items` per table, in order: what one query of a table can cover. */
export function indexesByTable(items: readonly { readonly table: TableFacts }[]): Map<TableFacts, number[]> {
  const byTable = new Map<TableFacts, number[]>();
  for (let index = 0; index < items.length; index++) {
    const { table } = items[index] as { readonly table: TableFacts };
    const list = byTable.get(table);
    if (list === undefined) byTable.set(table, [index]);
    else list.push(index);
  }
  return byTable;
}

/**
 * One fast-path query: the statements it covers and the WHERE that reads
 * their rows. Rows are found again by their key: one integer column's value
 * as a number, else the key columns' bytes as a string.
 */
interface Batch {
  readonly indexes: number[];
  readonly keys: Map<number | string, number>;
  readonly where: string;
}

/** The key a row read back is found by in its batch; undefined when it cannot be (see Batch). */
function liveKey(
  identity: readonly ColumnFacts[],
  numeric: boolean,
  row: RawRow,
): number | string | undefined {
  if (numeric) return readLiveInteger(row[(identity[0] as ColumnFacts).index]);
  return formKey(identity.map((c) => row[c.index]));
}

/** Statements of one table in groups of KEYS_PER_QUERY; those whose key has no exact form stay with the server. */
function* batches(
  table: TableFacts,
  identity: readonly ColumnFacts[],
  firsts: readonly RowCheck[],
  indexes: readonly number[],
): Generator<Batch> {
  let batch: Batch = { indexes: [], keys: new Map(), where: '' };
  let terms: string[] = [];
  let chars = 0;
  const finish = (): Batch => ({ ...batch, where: keyIn(identity, terms) });
  const numeric = isNumeric(identity);
  for (let i = 0; i < indexes.length; i++) {
    const index = indexes[i] as number;
    const image = (firsts[index] as RowCheck).identity;
    let key: number | string;
    if (numeric) {
      const n = liveInteger(identity[0] as ColumnFacts, image[(identity[0] as ColumnFacts).index]);
      if (n === undefined) continue;
      key = n;
    } else {
      const forms = identity.map((c) => liveForm(table, c, image[c.index]));
      if (forms.some((f) => f === undefined || f === null)) continue;
      key = formKey(forms as Buffer[]);
    }
    // Two statements on one key cannot be told apart by the rows read back.
    if (batch.keys.has(key)) continue;
    // An integer key's literal is its decimal text (keyLiteral's, without the type checks).
    const term = typeof key === 'number' ? String(key) : keyTerm(table, identity, image);
    batch.indexes.push(index);
    batch.keys.set(key, index);
    terms.push(term);
    chars += term.length + 4;
    if (batch.indexes.length >= KEYS_PER_QUERY || chars >= MAX_QUERY_CHARS) {
      yield finish();
      batch = { indexes: [], keys: new Map(), where: '' };
      terms = [];
      chars = 0;
    }
  }
  if (batch.indexes.length > 0) yield finish();
}

/** Reads one batch of rows and settles each statement whose row matches, or is certainly gone. */
async function compareBatch(
  conn: Connection,
  table: TableFacts,
  identity: readonly ColumnFacts[],
  firsts: readonly RowCheck[],
  batch: Batch,
  unchanged: (boolean | undefined)[],
): Promise<void> {
  const columns = table.columns;
  const rows = await queryRawRows(
    conn,
    `SELECT ${columns.map(liveColumn).join(', ')} FROM ${quotedName(table)} WHERE ${batch.where}`,
  );
  const seen = new Set<number>();
  let unmatched = false;
  const numeric = isNumeric(identity);
  for (const row of rows) {
    const key = liveKey(identity, numeric, row);
    const index = key === undefined ? undefined : batch.keys.get(key);
    // A row the key matched by collation ('ABC' for 'abc'): which statement it answers is the server's call.
    if (index === undefined) {
      unmatched = true;
      continue;
    }
    seen.add(index);
    const holds = (firsts[index] as RowCheck).holds;
    if (holds !== undefined && sameRow(table, holds, row)) unchanged[index] = true;
  }
  if (unmatched) return;
  // Not read back: the row is gone, which is what a bad delete left.
  for (const index of batch.indexes) {
    if (!seen.has(index) && (firsts[index] as RowCheck).holds === undefined) unchanged[index] = true;
  }
}

/** The key is one integer column: rows are found by its value as a number. */
function isNumeric(identity: readonly ColumnFacts[]): boolean {
  return identity.length === 1 && liveInteger(identity[0] as ColumnFacts, 0) !== undefined;
}

/** Every column of the live row has exactly the after-image's bytes. */
function sameRow(table: TableFacts, expect: RowImage, row: RawRow): boolean {
  for (const column of table.columns) {
    if (holdsLiveForm(table, column, expect[column.index], row[column.index]) !== true) return false;
  }
  return true;
}

/** The key columns' bytes as one map key; U+0100 is no latin1 byte, so the parts cannot run together. */
function formKey(forms: readonly (Buffer | null | undefined)[]): string {
  let key = '';
  for (const form of forms) key += `${form?.toString('latin1') ?? ''}\u0100`;
  return key;
}

/** The row a check addresses, and whether it holds exactly the image. */
export function exactLookup(check: RowCheck): Lookup {
  const guard = check.holds ? rowCondition(check.table, check.holds, 'guarded') : 'FALSE';
  return {
    what: `(${guard}) AS salvage_unchanged`,
    from: `${quotedName(check.table)} t WHERE ${keyCondition(check.table, check.identity)} LIMIT 1`,
  };
}

/** The row holds the image, or (with none) there is no row. */
export function isUnchanged(check: RowCheck, row: Record<string, unknown> | undefined): boolean {
  return check.holds ? row !== undefined && Number(row.salvage_unchanged) === 1 : row === undefined;
}

/** `col = literal AND ...` for one row's key (an IN-list item when the key has one column). */
export function keyTerm(table: TableFacts, identity: readonly ColumnFacts[], image: RowImage): string {
  if (identity.length === 1) {
    const column = identity[0] as ColumnFacts;
    return keyLiteral(table, column, image[column.index]);
  }
  return identity.map((c) => `${quotedName(c)} = ${keyLiteral(table, c, image[c.index])}`).join(' AND ');
}

/** The WHERE that reads the rows of these keyTerms: an IN list, or ORed key matches. */
export function keyIn(identity: readonly ColumnFacts[], terms: readonly string[]): string {
  return identity.length === 1
    ? `${quotedName(identity[0] as ColumnFacts)} IN (${terms.join(', ')})`
    : terms.map((t) => `(${t})`).join(' OR ');
}
