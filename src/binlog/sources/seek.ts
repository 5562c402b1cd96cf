/**
 * Where to start stepping through a large binlog file for some
 * transactions, found by bisection instead of reading every byte before
 * them: GTID sequence numbers grow through a file (per MariaDB domain, per
 * MySQL source), so a probe in the middle says which half the first of
 * them is in.
 *
 * A probe lands on an arbitrary byte. The first event starting at or after
 * it is the first offset whose header's `log_pos` (the end of the event in
 * the file) equals offset + `event_length`, whose checksum holds (with
 * checksums on) and whose next events follow on the same way. A probe that
 * is misled (sequence numbers out of order, a false boundary) can only make
 * the start late; the reader that uses it checks that every transaction was
 * found and reads the file from the beginning when one was not.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { basename } from 'node:path';
import { crc32 } from '../crc32.js';
import { EventType, isKnownEventType } from '../event-types.js';
import type { BinlogFormat } from '../events/format-description.js';
import { EVENT_HEADER_LENGTH } from '../events/header.js';
import { decodeEvent } from '../events/index.js';
import { type GtidParts, type GtidSelection, gtidParts, lowestOfStream } from '../gtid-list.js';

/** Files smaller than this are stepped through from the start (about 15 ms for 16 MiB): bisecting saves little. */
const SEEK_FROM_BYTES = 16 * 2 ** 20;
/** Bisection stops when the first transaction is known to lie within this many bytes. */
const CLOSE_ENOUGH = 256 * 1024;
/** Bytes read per probe. */
const WINDOW = 64 * 1024;
/** Events after a candidate boundary that must follow on from it. */
const FOLLOWING = 2;
/** Bytes a probe scans for the next event start: rows events are split at 8 KiB, all but very large rows. */
const SCAN_UP_TO = 2 ** 20;
/** Candidates longer than this are checked by the events that follow them only, not by their checksum. */
const CHECKSUM_UP_TO = 4 * 2 ** 20;

/** Where a GTID falls in the order of its stream. */
type GtidOrder = Pick<GtidParts, 'stream' | 'sequence'>;

/** A UUID is the same source in any case. */
function orderOf(parts: GtidParts): GtidOrder {
  return { stream: parts.stream.toLowerCase(), sequence: parts.sequence };
}

/**
 * An event boundary of `path` at or before the first transaction of
 * `gtids` (assuming sequence numbers in order), found by bisection;
 * undefined when the file should be stepped through from its start (small,
 * encrypted, or `gtids` of several streams).
 */
export async function seekTransactions(
  path: string,
  gtids: GtidSelection,
  format: BinlogFormat,
  firstEvent: number,
): Promise<number | undefined> {
  const lowest = lowestOfStream(gtids);
  const target = lowest === undefined ? undefined : orderOf(lowest);
  if (target === undefined) return undefined;
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    if (size < SEEK_FROM_BYTES) return undefined;
    const file = new FileWindow(handle, size, basename(path), format);
    // Everything before lo is before the first transaction; the first event from hi on that is of the stream is not.
    let lo = firstEvent;
    let hi = size;
    while (hi - lo > CLOSE_ENOUGH) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const found = await file.nextOfStream(mid, hi, target.stream);
      if (found !== undefined && found.sequence < target.sequence) lo = found.position;
      else hi = mid;
    }
    return lo;
  } finally {
    await handle.close();
  }
}

/** Random reads of one binlog file, a window at a time. */
class FileWindow {
  private bytes = Buffer.allocUnsafe(WINDOW);
  /** The file offset of bytes[0], and how many bytes are loaded. */
  private offset = 0;
  private loaded = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly size: number,
    private readonly file: string,
    private readonly format: BinlogFormat,
  ) {}

  /** The first GTID event of `stream` at or after `from` and before `until`, with its sequence number. */
  async nextOfStream(
    from: number,
    until: number,
    stream: string,
  ): Promise<{ position: number; sequence: GtidOrder['sequence'] } | undefined> {
    let position = await this.boundaryFrom(from, until);
    while (position !== undefined && position < until) {
      if (!(await this.load(position, EVENT_HEADER_LENGTH))) return undefined;
      const at = position - this.offset;
      const type = this.bytes[at + 4] as number;
      const length = this.bytes.readUInt32LE(at + 9);
      if (length < EVENT_HEADER_LENGTH) return undefined;
      if (type === EventType.MARIADB_GTID || type === EventType.GTID || type === EventType.GTID_TAGGED) {
        const order = await this.gtidAt(position, length);
        if (order === undefined) return undefined;
        if (order.stream === stream) return { position, sequence: order.sequence };
      }
      position += length;
    }
    return undefined;
  }

  private async gtidAt(position: number, length: number): Promise<GtidOrder | undefined> {
    if (!(await this.load(position, length))) return undefined;
    const at = position - this.offset;
    try {
      const event = decodeEvent(this.bytes, at, at + length, this.format, this.format.checksum, {
        file: this.file,
        position,
      });
      const gtid = event.kind === 'gtid' || event.kind === 'mariadb-gtid' ? event.gtid : undefined;
      const parts = gtid === undefined ? undefined : gtidParts(gtid);
      return parts === undefined ? undefined : orderOf(parts);
    } catch {
      return undefined;
    }
  }

  /** The first offset in [from, until) where an event starts, by the tests above. */
  private async boundaryFrom(from: number, until: number): Promise<number | undefined> {
    // Inside one huge event (a row of a 50 MB BLOB) give up instead of scanning it: the probe then
    // counts as "too late", which only moves the start earlier.
    const stop = Math.min(until, from + SCAN_UP_TO);
    for (let start = from; start < stop; start += WINDOW - EVENT_HEADER_LENGTH) {
      if (!(await this.load(start, Math.min(WINDOW, this.size - start)))) return undefined;
      const last = Math.min(stop, this.offset + this.loaded - EVENT_HEADER_LENGTH);
      for (let position = start; position <= last; position++) {
        if (!this.claimsEnd(position)) continue;
        if (await this.isBoundary(position)) return position;
        // isBoundary may have moved the window.
        if (!(await this.load(start, Math.min(WINDOW, this.size - start)))) return undefined;
      }
    }
    return undefined;
  }

  /** The loaded header at `position` names its own end: log_pos = position + event_length. */
  private claimsEnd(position: number): boolean {
    const at = position - this.offset;
    const length = this.bytes.readUInt32LE(at + 9);
    return (
      length >= EVENT_HEADER_LENGTH &&
      position + length <= this.size &&
      this.bytes.readUInt32LE(at + 13) === (position + length) % 2 ** 32 &&
      isKnownEventType(this.bytes[at + 4] as number)
    );
  }

  private async isBoundary(position: number): Promise<boolean> {
    let at = position;
    for (let n = 0; n <= FOLLOWING && at < this.size; n++) {
      if (!(await this.load(at, EVENT_HEADER_LENGTH)) || !this.claimsEnd(at)) return false;
      const length = this.bytes.readUInt32LE(at - this.offset + 9);
      if (n === 0 && this.format.checksum && length <= CHECKSUM_UP_TO && length > EVENT_HEADER_LENGTH + 4) {
        if (!(await this.load(at, length))) return false;
        const start = at - this.offset;
        if (crc32(this.bytes, start, start + length - 4) !== this.bytes.readUInt32LE(start + length - 4))
          return false;
      }
      at += length;
    }
    return true;
  }

  /** Makes file[position..position+length) loaded; false past the end of the file. */
  private async load(position: number, length: number): Promise<boolean> {
    if (position + length > this.size) return false;
    if (position >= this.offset && position + length <= this.offset + this.loaded) return true;
    if (this.bytes.length < length) this.bytes = Buffer.allocUnsafe(length);
    const want = Math.min(this.bytes.length, this.size - position);
    let filled = 0;
    while (filled < want) {
      const { bytesRead } = await this.handle.read(this.bytes, filled, want - filled, position + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    this.offset = position;
    this.loaded = filled;
    return filled >= length;
  }
}
