/**
 * The NDJSON form of row changes (`salvage binlog rows --json`): one line per
 * row with gtid, pos, db, table, op, and before/after objects keyed by column
 * name. Built as strings directly, with per-table key prefixes cached,
 * because it runs for every row of multi-gigabyte binlogs.
 */
import { ByteReader } from './byte-reader.js';
import type { RowsEvent } from './events/rows-event.js';
import { decodeRows } from './rows.js';
import type { RowChange, RowsEventChanges } from './transactions.js';
import type { ColumnDef, RowImage, TableMapDetails } from './types.js';
import { readValueJson, valueJson } from './values/to-json.js';

/** Column names as the output shows them: from the binlog, or `@1`, `@2`... when it has none. */
export function columnNames(table: TableMapDetails): string[] {
  return table.columns.map((c, i) => c.name ?? `@${i + 1}`);
}

const keyCache = new WeakMap<TableMapDetails, { keys: string[]; prefix: string }>();

function keysOf(table: TableMapDetails): { keys: string[]; prefix: string } {
  let cached = keyCache.get(table);
  if (!cached) {
    cached = {
      keys: columnNames(table).map((n) => `${JSON.stringify(n)}:`),
      prefix: `"db":${JSON.stringify(table.database)},"table":${JSON.stringify(table.table)}`,
    };
    keyCache.set(table, cached);
  }
  return cached;
}

/** A row image as a JSON object; columns absent from the image are left out. */
export function rowImageJson(image: RowImage | undefined, keys: readonly string[]): string {
  if (image === undefined) return 'null';
  let out = '{';
  let first = true;
  for (let i = 0; i < image.length; i++) {
    const v = image[i];
    if (v === undefined) continue;
    out += first ? keys[i] : `,${keys[i]}`;
    out += valueJson(v);
    first = false;
  }
  return `${out}}`;
}

function linePrefix(
  gtid: string | undefined,
  file: string,
  pos: number,
  table: TableMapDetails,
  op: string,
): string {
  const { prefix } = keysOf(table);
  const g = gtid === undefined ? 'null' : JSON.stringify(gtid);
  return `{"gtid":${g},"file":${JSON.stringify(file)},"pos":${pos},${prefix},"op":"${op}","before":`;
}

/** One NDJSON line (with its newline) for a row change. */
export function rowChangeJson(change: RowChange): string {
  const { keys } = keysOf(change.table);
  const prefix = linePrefix(change.gtid, change.file, change.pos, change.table, change.op);
  return `${prefix}${rowImageJson(change.before, keys)},"after":${rowImageJson(change.after, keys)}}\n`;
}

/** The NDJSON lines of every row of one rows event (the shared part of the lines built once). */
export function rowsEventJson(changes: RowsEventChanges): string {
  const { keys } = keysOf(changes.table);
  const h = changes.event.header;
  const prefix = linePrefix(changes.gtid, h.file, h.position, changes.table, changes.event.op);
  let out = '';
  for (const row of changes.rows) {
    out += `${prefix}${rowImageJson(row.before, keys)},"after":${rowImageJson(row.after, keys)}}\n`;
  }
  return out;
}

/**
 * The NDJSON lines of every row of a rows event bound to its table, encoded
 * straight from the row images: the same text as rowsEventJson over rowsOf,
 * without a value array per row or a copy per binary value. PARTIAL_UPDATE
 * events (JSON diffs applied against the before image) take the decoding path.
 */
export function rowsEventLines(gtid: string | undefined, event: RowsEvent): string {
  const table = event.table as TableMapDetails;
  const h = event.header;
  const prefix = linePrefix(gtid, h.file, h.position, table, event.op);
  const r = new ByteReader(event.rows, 0, event.rows.length, { file: h.file, position: h.position });
  if (event.partial) {
    return rowsEventJson({ gtid, event, table, rows: decodeRows(r, table, event) });
  }
  const { keys } = keysOf(table);
  const columns = table.columns;
  if (event.present.size > columns.length) {
    throw r.corrupt(
      `rows event has ${event.present.size} columns but the table map of ${table.table} has ${columns.length}`,
    );
  }
  const present = presentColumns(event.present, columns.length);
  const after = event.presentAfter;
  const presentAfter = after === undefined ? undefined : presentColumns(after, columns.length);
  if (event.op === 'update' && presentAfter === undefined) {
    throw r.corrupt('update rows event without an after-image column bitmap');
  }
  const imageFirst = event.op === 'insert' ? 'null,"after":' : '';
  let out = '';
  while (r.remaining > 0) {
    out += prefix;
    out += imageFirst;
    out += imageJson(r, columns, present, keys);
    if (presentAfter !== undefined) {
      out += ',"after":';
      out += imageJson(r, columns, presentAfter, keys);
      out += '}\n';
    } else {
      out += event.op === 'insert' ? '}\n' : ',"after":null}\n';
    }
  }
  return out;
}

/** Indexes of the columns a columns-present bitmap selects. */
function presentColumns(bitmap: RowsEvent['present'], columnCount: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < bitmap.size && i < columnCount; i++) if (bitmap.has(i)) out.push(i);
  return out;
}

/** One row image as a JSON object, read from the NULL bitmap in place. */
function imageJson(
  r: ByteReader,
  columns: readonly ColumnDef[],
  present: readonly number[],
  keys: readonly string[],
): string {
  const nulls = r.pos;
  r.skip((present.length + 7) >>> 3);
  const bytes = r.buffer;
  let out = '{';
  for (let n = 0; n < present.length; n++) {
    const i = present[n] as number;
    if (n > 0) out += ',';
    out += keys[i];
    out +=
      ((bytes[nulls + (n >>> 3)] as number) >>> (n & 7)) & 1
        ? 'null'
        : readValueJson(r, columns[i] as ColumnDef);
  }
  return `${out}}`;
}
