/**
 * Row images of rows events (`pack_row` / `unpack_row` in rpl_record.cc):
 * a NULL bitmap with one bit per column PRESENT in the image, then each
 * present non-NULL value. Columns left out of a partial image (row image
 * MINIMAL or NOBLOB) are `undefined`, distinct from NULL.
 *
 * MySQL's PARTIAL_UPDATE_ROWS after-images start with `value_options` and,
 * when it has PARTIAL_JSON_UPDATES, one bit per JSON column of the table
 * saying whether that column holds JSON diffs instead of a document.
 */
import type { Bitmap, ByteReader } from './byte-reader.js';
import {
  type ColumnDef,
  ColumnType,
  type RowImage,
  type RowOperation,
  type TableMap,
  type Value,
} from './types.js';
import { type JsonNode, jsonText } from './values/json-binary.js';
import { applyJsonDiffs, describeJsonDiffs, readJsonDiffs } from './values/json-diff.js';
import { decodeValue, readJsonColumn } from './values/value.js';

/** One row of a rows event: `after` for inserts, `before` for deletes, both for updates. */
export interface RowImages {
  readonly before?: RowImage;
  readonly after?: RowImage;
}

/** What a rows event's frame says about the images that follow it. */
export interface RowsLayout {
  readonly op: RowOperation;
  /** PARTIAL_UPDATE_ROWS (MySQL type 39). */
  readonly partial: boolean;
  /** Columns in the before image (update, delete) or the after image (insert). */
  readonly present: Bitmap;
  /** Columns in the update after image. */
  readonly presentAfter?: Bitmap;
}

const PARTIAL_JSON_UPDATES = 1;

/**
 * Decodes one row image: the NULL bitmap (one bit per present column), then
 * each present non-NULL value.
 */
export function decodeRowImage(r: ByteReader, table: TableMap, present: Bitmap): RowImage {
  return readImage(r, table.columns, present, present.count(), undefined, undefined);
}

/** Decodes every row of a rows event body, in order, until the reader's end. */
export function decodeRows(r: ByteReader, table: TableMap, layout: RowsLayout): RowImages[] {
  const columns = table.columns;
  if (layout.present.size > columns.length) {
    throw r.corrupt(
      `rows event has ${layout.present.size} columns but the table map of ${table.table} has ${columns.length}`,
    );
  }
  const presentCount = layout.present.count();
  const rows: RowImages[] = [];
  if (layout.op !== 'update') {
    while (r.remaining > 0) {
      const image = readImage(r, columns, layout.present, presentCount, undefined, undefined);
      rows.push(layout.op === 'insert' ? { after: image } : { before: image });
    }
    return rows;
  }
  const presentAfter = layout.presentAfter;
  if (presentAfter === undefined) throw r.corrupt('update rows event without an after-image column bitmap');
  const afterCount = presentAfter.count();
  const jsonColumns = layout.partial ? columns.filter(isBinaryJson).length : 0;
  while (r.remaining > 0) {
    const beforeTrees = layout.partial ? new Map<number, JsonNode>() : undefined;
    const before = readImage(r, columns, layout.present, presentCount, beforeTrees, undefined);
    let partialBits: Bitmap | undefined;
    if (layout.partial) {
      const valueOptions = r.packedInt();
      if (valueOptions & PARTIAL_JSON_UPDATES) partialBits = r.bitmap(jsonColumns);
    }
    const after = readImage(r, columns, presentAfter, afterCount, undefined, {
      bits: partialBits,
      before: beforeTrees,
    });
    rows.push({ before, after });
  }
  return rows;
}

interface PartialJson {
  /** One bit per JSON column of the table (present or not), set when it holds diffs. */
  readonly bits: Bitmap | undefined;
  /** The before image's JSON documents, by column index. */
  readonly before: ReadonlyMap<number, JsonNode> | undefined;
}

function readImage(
  r: ByteReader,
  columns: readonly ColumnDef[],
  present: Bitmap,
  presentCount: number,
  captureJson: Map<number, JsonNode> | undefined,
  partial: PartialJson | undefined,
): RowImage {
  const nulls = r.nulls(presentCount);
  const values: (Value | undefined)[] = new Array(columns.length);
  let imageIndex = 0;
  let jsonIndex = 0;
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i] as ColumnDef;
    const json = partial !== undefined && isBinaryJson(column) ? jsonIndex++ : -1;
    if (i >= present.size || !present.has(i)) {
      values[i] = undefined;
      continue;
    }
    const isNull = nulls.has(imageIndex++);
    if (isNull) {
      values[i] = null;
    } else if (json >= 0 && partial?.bits?.has(json)) {
      values[i] = readPartialJson(r, column, partial.before?.get(i));
    } else if (captureJson !== undefined && isBinaryJson(column)) {
      const tree = readJsonColumn(r, column);
      captureJson.set(i, tree);
      values[i] = jsonText(tree);
    } else {
      values[i] = decodeValue(r, column);
    }
  }
  return values;
}

/**
 * A JSON column holding diffs: the new document when the before image has
 * the old one and every diff applies, else the diffs themselves.
 */
function readPartialJson(r: ByteReader, column: ColumnDef, before: JsonNode | undefined): Value {
  const diffs = readJsonDiffs(r, r.uintLE(column.meta));
  if (before !== undefined) {
    const applied = applyJsonDiffs(before, diffs);
    if (applied !== undefined) return jsonText(applied);
  }
  return { kind: 'json-diff', diffs: describeJsonDiffs(diffs) };
}

function isBinaryJson(column: ColumnDef): boolean {
  return column.type === ColumnType.JSON;
}
