/**
 * The NDJSON form of row changes (`salvage binlog rows --json`): one line per
 * row with gtid, pos, db, table, op, and before/after objects keyed by column
 * name. Built as strings directly, with per-table key prefixes cached,
 * because it runs for every row of multi-gigabyte binlogs.
 */
import type { RowChange, RowsEventChanges } from './transactions.js';
import type { RowImage, TableMapDetails, Value } from './types.js';
import { toHex, valueToJson } from './values/to-json.js';

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

function valueJson(v: Value): string {
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v) ? String(v) : JSON.stringify(String(v));
    case 'string':
      return JSON.stringify(v);
    case 'bigint':
      return `"${v}"`;
    default:
      if (v === null) return 'null';
      if (v instanceof Uint8Array) return `{"hex":"${toHex(v)}"}`;
      return JSON.stringify(valueToJson(v));
  }
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
