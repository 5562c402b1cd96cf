/**
 * What the undo needs of each row the bad transactions changed, from one
 * pass over the binlog: the row as it was before the first bad change, as
 * the last one left it, whether the bad changes in between follow on from
 * each other (nothing else wrote the row between them), and the other
 * transactions that wrote it since. Row images stay bytes, compared as
 * bytes; only those two images per row are ever decoded, so the pass costs
 * little more than reading the binlog and holds one row's worth per row.
 *
 * Tables where the order and number of statements matter (foreign keys,
 * triggers, unique keys besides the one that addresses rows, no key at all)
 * and tables whose bad changes moved a row's key are "stepwise": their
 * changes are undone one by one, newest first. The changes of a table
 * stepwise from the start (its facts say so) are collected decoded in the
 * same pass; a table that turns stepwise part way (a moved key, partial
 * images) needs a second pass.
 */
import {
  allSet,
  type BinlogEvent,
  type Bitmap,
  ByteReader,
  type ColumnDef,
  ColumnType,
  countRowsOf,
  decodeRowImage,
  GtidMatcher,
  type ImageSpans,
  imageSpans,
  type RowImage,
  type RowsEvent,
  rowsReader,
  skipImage,
  type TableMapDetails,
} from '../binlog/index.js';
import {
  type BadTransaction,
  changeCollector,
  changedRowsOf,
  classifyStatement,
  identityColumns,
  refuseMissingTransactions,
  type SchemaChange,
  sameValue,
  type TableFacts,
  type Trace,
} from '../impact/index.js';

/** One row image as the binlog holds it, `slab[start..start+length)`, with what decodes it. */
export interface StoredImage {
  readonly slab: Buffer;
  /** The slab's bytes for comparing and copying four at a time. */
  readonly view: DataView;
  readonly start: number;
  length: number;
  /** Bytes the image may grow to in place. */
  readonly room: number;
  readonly map: TableMapDetails;
  readonly present: RowsEvent['present'];
}

/** One row of a table undone row by row. */
export interface RowHistory {
  readonly table: TableFacts;
  /** The bad transaction that changed the row first. */
  readonly firstGtid: string;
  /** The row before its first bad change; undefined when that change inserted it. */
  readonly before: StoredImage | undefined;
  /** The bad transaction that changed the row last, and that change's place among all bad row changes. */
  lastGtid: string;
  lastSequence: number;
  /** The row as its last bad change left it; undefined when that change deleted it. */
  after: StoredImage | undefined;
  /** How many bad row changes it went through. */
  changes: number;
  /** Something else wrote the row between two of its bad changes: an image did not follow on. */
  interleaved: boolean;
  /** Transactions other than the bad ones that wrote the row after its first bad change, in order. */
  readonly later: string[];
}

export interface RowHistories {
  readonly transactions: readonly BadTransaction[];
  readonly schemaChanges: readonly SchemaChange[];
  /** The rows of the tables undone row by row, in the order first changed. */
  readonly rows: readonly RowHistory[];
  /** Tables (`db.table`) whose changes are undone one by one, and why. */
  readonly stepwise: ReadonlyMap<string, string>;
  /** Bad row changes in all. */
  readonly changes: number;
  /** Transactions read after the first bad one, other than bad ones. */
  readonly laterTransactions: number;
  /**
   * The stepwise tables' bad changes and the later writes to their rows,
   * when every one of them was stepwise from its first bad change on (a
   * trigger, a foreign key, a second unique key: known before any of its
   * rows was read): no second pass over the binlog is needed. Undefined when
   * a table turned stepwise part way (a moved key, partial images).
   */
  readonly stepwiseChanges: Pick<Trace, 'changes' | 'later'> | undefined;
}

export interface HistoryOptions {
  readonly gtids: readonly string[];
  /** `gtids` matched by number, when the caller has built it already. */
  readonly wanted?: GtidMatcher;
  /**
   * The binlog from the first bad transaction (or earlier) to the present;
   * only GTID, QUERY and rows events are looked at.
   */
  readonly events: AsyncIterable<readonly BinlogEvent[]>;
  /** The facts of a table; called once per table. */
  readonly tableFacts: (map: TableMapDetails) => Promise<TableFacts>;
  /** Why the table's changes must be undone one by one (a trigger, say); undefined when row by row is exact. */
  readonly stepwiseReason: (table: TableFacts) => Promise<string | undefined>;
}

/** A row's identity within its table: see rowKeyOf. */
type RowKey = number | string;

/** A table as the pass sees it: its facts, its rows' histories, and how they are keyed. */
interface TableState {
  readonly facts: TableFacts;
  readonly rows: Map<RowKey, RowHistory>;
  readonly identity: readonly number[];
  /** The byte width of the identity when it is one integer column (its key is then a number, see rowKeyOf), else 0. */
  readonly integerKey: number;
  readonly before: ImageSpans;
  readonly after: ImageSpans;
  /** Every column present: the images kept are full ones (an event's own bitmap points into the read buffer). */
  readonly full: Bitmap;
}

/** Reads the bad transactions' row histories; GTID_NOT_FOUND when one is missing. */
export async function traceRowHistories(options: HistoryOptions): Promise<RowHistories> {
  const wanted = options.wanted ?? new GtidMatcher(options.gtids);
  // The bad transactions met, in order, and by their position in options.gtids (see GtidMatcher).
  const transactions: { gtid: string; file: string; position: number; rows: number }[] = [];
  const byPosition: (typeof transactions)[number][] = [];
  const schemaChanges: SchemaChange[] = [];
  const histories: RowHistory[] = [];
  const tables = new Map<string, TableState>();
  const stepwise = new Map<string, string>();
  const images = imageStore();
  // Tables stepwise from their first bad change: their changes are collected decoded, as they pass.
  const collected = new Set<string>();
  const collector = changeCollector();
  let partWay = false;
  let sequence = 0;
  let laterTransactions = 0;
  // A re-logged TABLE_MAP is one shared object (the decoder's cache): its name is built once, not per event.
  const names = new WeakMap<TableMapDetails, string>();
  const nameOf = (map: TableMapDetails): string => {
    let name = names.get(map);
    if (name === undefined) {
      name = `${map.database}.${map.table}`;
      names.set(map, name);
    }
    return name;
  };

  /** A table turns stepwise after some of its rows were traced row by row: only a second pass has all its changes. */
  const turnStepwise = (name: string, reason: string): void => {
    stepwise.set(name, reason);
    partWay = true;
  };

  /** Loads a table the pass has not seen in this shape (a map of another shape is checked against the live table again, and refused when they differ). */
  const tableOf = async (map: TableMapDetails): Promise<TableState> => {
    const name = nameOf(map);
    const facts = await options.tableFacts(map);
    const reason = facts.address.kind === 'row' ? 'it has no key' : await options.stepwiseReason(facts);
    if (reason !== undefined) {
      // A table seen again in another shape was traced another way until now: the second pass reads it all.
      if (tables.has(name)) partWay = true;
      else collected.add(name);
      stepwise.set(name, reason);
    }
    const identity = identityColumns(facts);
    const state: TableState = {
      facts,
      rows: new Map(),
      identity,
      integerKey: identity.length === 1 ? integerWidth(map.columns[identity[0] as number]) : 0,
      before: imageSpans(map.columns.length),
      after: imageSpans(map.columns.length),
      full: allSet(map.columns.length),
    };
    tables.set(name, state);
    return state;
  };

  let gtid = '';
  let transaction: { gtid: string; file: string; position: number; rows: number } | undefined;
  for await (const batch of options.events) {
    // Indexed: an array iterator in an async function that awaits inside the loop costs an object per event.
    for (let e = 0; e < batch.length; e++) {
      const event = batch[e] as BinlogEvent;
      // Every event up to the next GTID event belongs to this one's transaction.
      if (event.kind === 'gtid' || event.kind === 'mariadb-gtid') {
        const bad =
          event.kind === 'mariadb-gtid'
            ? wanted.mariadb(event.domainId, event.header.serverId, event.sequence, event.gtid)
            : event.gtid === undefined
              ? undefined
              : wanted.text(event.gtid);
        gtid = bad === undefined ? (event.gtid ?? '') : (options.gtids[bad] as string);
        transaction = undefined;
        if (bad !== undefined) {
          transaction = byPosition[bad];
          if (transaction === undefined) {
            transaction = { gtid, file: event.header.file, position: event.header.position, rows: 0 };
            byPosition[bad] = transaction;
            transactions.push(transaction);
          }
        } else if (transactions.length > 0) {
          laterTransactions++;
        }
        continue;
      }
      if (transaction !== undefined) {
        if (event.kind === 'query' && !/^\s*(BEGIN|COMMIT|ROLLBACK)\s*$/i.test(event.query)) {
          const found = classifyStatement(gtid, event.schema, event.query);
          if (found) schemaChanges.push(found);
        }
        if (event.kind !== 'rows') continue;
        const map = event.table as TableMapDetails;
        const name = nameOf(map);
        const known = tables.get(name);
        const table =
          known !== undefined && known.facts.columns.length === map.columns.length
            ? known
            : await tableOf(map);
        if (!stepwise.has(name)) {
          const reason = netRefusal(event, table);
          if (reason !== undefined) turnStepwise(name, reason);
        }
        let counted: number;
        if (collected.has(name)) {
          const changes = changedRowsOf(event);
          for (const [i, change] of changes.entries()) collector.bad(gtid, sequence + i, table.facts, change);
          counted = changes.length;
        } else if (stepwise.has(name)) {
          counted = countRowsOf(event);
        } else {
          counted = recordBadRows(event, table, gtid, sequence, histories, turnStepwise, images);
        }
        transaction.rows += counted;
        sequence += counted;
        continue;
      }
      if (event.kind !== 'rows' || transactions.length === 0) continue;
      const map = event.table as TableMapDetails;
      const name = nameOf(map);
      const table = tables.get(name);
      if (table === undefined || table.facts.columns.length !== map.columns.length) continue;
      const laterGtid = gtid || '(no GTID)';
      if (collected.has(name)) {
        for (const change of changedRowsOf(event)) collector.later(laterGtid, table.facts, change);
        continue;
      }
      // Later writes to a table turned stepwise part way are traced by the second pass, from decoded rows.
      if (stepwise.has(name)) continue;
      const reason = netRefusal(event, table);
      if (reason !== undefined) turnStepwise(name, `a later transaction logged ${reason}`);
      else recordLaterRows(event, table, laterGtid);
    }
  }
  refuseMissingTransactions(options.gtids, {
    has: (_, position) => byPosition[wanted.first(position)] !== undefined,
  });
  const rows = histories.filter((h) => !stepwise.has(`${h.table.schema}.${h.table.table}`));
  return {
    transactions,
    schemaChanges,
    rows,
    stepwise,
    changes: sequence,
    laterTransactions,
    stepwiseChanges: partWay ? undefined : collector.result(),
  };
}

/** Why a rows event cannot be undone row by row from its bytes; undefined when it can. */
function netRefusal(event: RowsEvent, table: TableState): string | undefined {
  const columns = table.facts.columns.length;
  if (event.partial) return 'partial JSON updates';
  // Partial images (binlog_row_image MINIMAL or NOBLOB) are refused by the stepwise pass, which names the columns.
  if (event.present.count() !== columns) return 'partial row images';
  if (event.presentAfter !== undefined && event.presentAfter.count() !== columns) return 'partial row images';
  return undefined;
}

/** Adds each row change of a bad rows event to its row's history; the number of rows. */
function recordBadRows(
  event: RowsEvent,
  table: TableState,
  gtid: string,
  firstSequence: number,
  histories: RowHistory[],
  turnStepwise: (name: string, reason: string) => void,
  images: ImageStore,
): number {
  const r = rowsReader(event);
  // The reader's positions, and so the spans, are offsets in the event's read buffer.
  const rows = event.rowBytes;
  const map = event.table as TableMapDetails;
  const columns = map.columns;
  const present = event.present;
  const shown = event.presentAfter ?? present;
  const count = present.count();
  const shownCount = shown.count();
  let sequence = firstSequence;
  while (r.remaining > 0) {
    let beforeStart = -1;
    let beforeEnd = -1;
    let afterStart = -1;
    let afterEnd = -1;
    if (event.op !== 'insert') {
      beforeStart = r.pos;
      skipImage(r, columns, present, count, table.before);
      beforeEnd = r.pos;
    }
    if (event.op !== 'delete') {
      afterStart = r.pos;
      skipImage(r, columns, shown, shownCount, table.after);
      afterEnd = r.pos;
    }
    const key = beforeStart >= 0 ? rowKeyOf(rows, table.before, table) : rowKeyOf(rows, table.after, table);
    if (beforeStart >= 0 && afterStart >= 0 && rowKeyOf(rows, table.after, table) !== key) {
      // The row moved to another key: undoing it row by row could clash with the row now holding
      // its old key, so the table goes stepwise (the reverse of the actual order never clashes).
      turnStepwise(`${table.facts.schema}.${table.facts.table}`, 'a bad change moved a row to another key');
      return countRowsOf(event);
    }
    const history = table.rows.get(key);
    if (history === undefined) {
      const created: RowHistory = {
        table: table.facts,
        firstGtid: gtid,
        before: beforeStart >= 0 ? images.store(rows, beforeStart, beforeEnd, map, table.full) : undefined,
        lastGtid: gtid,
        lastSequence: sequence,
        after: afterStart >= 0 ? images.store(rows, afterStart, afterEnd, map, table.full) : undefined,
        changes: 1,
        interleaved: false,
        later: [],
      };
      table.rows.set(key, created);
      histories.push(created);
    } else {
      const follows =
        beforeStart < 0
          ? history.after === undefined
          : history.after !== undefined &&
            sameImage(history.after, rows, beforeStart, beforeEnd, map, table.full);
      if (!follows) history.interleaved = true;
      history.lastGtid = gtid;
      history.lastSequence = sequence;
      history.after =
        afterStart < 0
          ? undefined
          : replaceImage(images, history.after, rows, afterStart, afterEnd, map, table.full);
      history.changes++;
    }
    sequence++;
  }
  return sequence - firstSequence;
}

/** Notes a later transaction on the histories of the rows it writes. */
function recordLaterRows(event: RowsEvent, table: TableState, gtid: string): void {
  const r = rowsReader(event);
  const map = event.table as TableMapDetails;
  const present = event.present;
  const shown = event.presentAfter ?? present;
  const count = present.count();
  const shownCount = shown.count();
  const note = (key: RowKey): void => {
    const history = table.rows.get(key);
    if (history !== undefined && history.later.at(-1) !== gtid) history.later.push(gtid);
  };
  while (r.remaining > 0) {
    if (event.op !== 'insert') {
      skipImage(r, map.columns, present, count, table.before);
      note(rowKeyOf(event.rowBytes, table.before, table));
    }
    if (event.op !== 'delete') {
      skipImage(r, map.columns, shown, shownCount, table.after);
      note(rowKeyOf(event.rowBytes, table.after, table));
    }
  }
}

/**
 * The row's identity within its table: the bytes of each key column's value
 * (length prefix included, so the pieces cannot run together), or, for a key
 * of one integer column, those bytes read as a number (one-to-one up to six
 * bytes), which costs no string per row.
 */
function rowKeyOf(rows: Buffer, spans: ImageSpans, table: TableState): RowKey {
  if (table.integerKey > 0) {
    const start = spans[2 * (table.identity[0] as number)] as number;
    const width = table.integerKey;
    // A BIGINT is a number while its top two bytes are zero, a string beyond: still one key per value.
    if (start >= 0 && (width < 8 || (rows[start + 6] === 0 && rows[start + 7] === 0)))
      return rows.readUIntLE(start, Math.min(width, 6));
  }
  let key = '';
  for (const index of table.identity) {
    const start = spans[2 * index] as number;
    // U+0100 is no latin1 byte: a NULL (or absent) key part never equals a value.
    key += start < 0 ? '\u0100' : rows.toString('latin1', start, spans[2 * index + 1]);
  }
  return key;
}

/** The byte width of an integer column; 0 for any other column. */
function integerWidth(column: ColumnDef | undefined): number {
  switch (column?.type) {
    case ColumnType.TINY:
      return 1;
    case ColumnType.SHORT:
      return 2;
    case ColumnType.INT24:
      return 3;
    case ColumnType.LONG:
      return 4;
    case ColumnType.LONGLONG:
      return 8;
    default:
      return 0;
  }
}

/**
 * The pass keeps its images in slabs: one Buffer per MiB of images, not one
 * per image (57,000 small Buffers cost more to allocate, copy into and
 * collect than the bytes they hold).
 */
const SLAB_BYTES = 2 ** 20;
/**
 * Below this many bytes images are copied and compared four bytes at a
 * time through DataViews, faster than a call into Buffer's native code
 * (a 190-byte row: 70 ns against 120 ns; byte by byte, 190 ns).
 */
const NATIVE_FROM = 1024;
/** Where the pass keeps its images. */
interface ImageStore {
  store(
    rows: Buffer,
    start: number,
    end: number,
    map: TableMapDetails,
    present: RowsEvent['present'],
  ): StoredImage;
}

function imageStore(): ImageStore {
  let slab = Buffer.allocUnsafe(0);
  let view = viewOf(slab);
  let used = 0;
  return {
    store(rows, start, end, map, present) {
      const length = end - start;
      if (length > SLAB_BYTES / 8) {
        const bytes = Buffer.allocUnsafe(length);
        rows.copy(bytes, 0, start, end);
        return { slab: bytes, view: viewOf(bytes), start: 0, length, room: length, map, present };
      }
      if (used + length > slab.length) {
        slab = Buffer.allocUnsafe(SLAB_BYTES);
        view = viewOf(slab);
        used = 0;
      }
      const image = { slab, view, start: used, length, room: length, map, present };
      copyBytes(rows, start, end, image);
      used += length;
      return image;
    },
  };
}

function viewOf(bytes: Buffer): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * A DataView of the whole read buffer rows events point into (offsets from
 * its start: add the event's byteOffset), kept while they do: one per
 * buffer read, not one per event.
 */
let rowsView: DataView | undefined;
let rowsMemory: ArrayBufferLike | undefined;

function viewOfRows(rows: Buffer): DataView {
  if (rowsMemory !== rows.buffer) {
    rowsMemory = rows.buffer;
    rowsView = new DataView(rows.buffer);
  }
  return rowsView as DataView;
}

/** Writes `from[start..end)` over the image's bytes. */
function copyBytes(from: Buffer, start: number, end: number, to: StoredImage): void {
  const length = end - start;
  if (length >= NATIVE_FROM) {
    from.copy(to.slab, to.start, start, end);
    return;
  }
  const source = viewOfRows(from);
  const from0 = from.byteOffset + start;
  const target = to.view;
  const at = to.start;
  let i = 0;
  for (; i + 4 <= length; i += 4) target.setInt32(at + i, source.getInt32(from0 + i, true), true);
  for (; i < length; i++) target.setUint8(at + i, source.getUint8(from0 + i));
}

/**
 * A row's new after-image: written over its previous one when it fits
 * there under the same map (most updates), so a row changed many times
 * holds one image, not one per change.
 */
function replaceImage(
  images: ImageStore,
  previous: StoredImage | undefined,
  rows: Buffer,
  start: number,
  end: number,
  map: TableMapDetails,
  present: RowsEvent['present'],
): StoredImage {
  if (previous === undefined || previous.map !== map || previous.room < end - start)
    return images.store(rows, start, end, map, present);
  copyBytes(rows, start, end, previous);
  previous.length = end - start;
  return previous;
}

/** True when the stored image and `rows[start..end)` hold the same row. */
function sameImage(
  stored: StoredImage,
  rows: Buffer,
  start: number,
  end: number,
  map: TableMapDetails,
  present: RowsEvent['present'],
): boolean {
  // Under one TABLE_MAP equal rows have equal bytes; across maps (a table re-mapped) compare values.
  if (stored.map === map) {
    const length = end - start;
    if (stored.length !== length) return false;
    const at = stored.start;
    if (length >= NATIVE_FROM) return rows.compare(stored.slab, at, at + length, start, end) === 0;
    const bytes = stored.view;
    const other = viewOfRows(rows);
    const from = rows.byteOffset + start;
    let i = 0;
    for (; i + 4 <= length; i += 4)
      if (bytes.getInt32(at + i, true) !== other.getInt32(from + i, true)) return false;
    for (; i < length; i++) if (bytes.getUint8(at + i) !== other.getUint8(from + i)) return false;
    return true;
  }
  const a = decodeStored(stored);
  const b = decodeRowImage(new ByteReader(rows, start, end), map, present);
  return a.length === b.length && a.every((value, i) => sameValue(value, b[i]));
}

/** The values of a stored image. */
export function decodeStored(image: StoredImage): RowImage {
  // Lasting: once the pass is over nothing writes a slab again, so byte values may be views of it
  // (within the pass, sameImage compares what it decodes at once).
  return decodeRowImage(
    new ByteReader(image.slab, image.start, image.start + image.length, {}, true),
    image.map,
    image.present,
  );
}
