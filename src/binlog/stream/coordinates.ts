/**
 * Turns the packets of a binlog dump into file coordinates. The server
 * prefixes every file with events that are not in it: a fake ROTATE naming
 * the file (flag ARTIFICIAL, timestamp and log_pos 0), and when the dump
 * starts past offset 4, the file's FORMAT_DESCRIPTION again with log_pos 0
 * (`send_format_descriptor_event` in sql_repl.cc). Heartbeats and MariaDB's
 * fake GTID_LIST are artificial too. Real events carry log_pos, the offset
 * just past them, so their own offset is log_pos minus their length.
 */
import type { SalvageError } from '../../errors.js';
import { ByteReader } from '../byte-reader.js';
import { EventFlag, EventType } from '../event-types.js';
import { EVENT_HEADER_LENGTH } from '../events/header.js';
import { compareBinlogFiles } from '../file-names.js';

/** Offset of the first event in every binlog file, after the magic bytes. */
export const FIRST_EVENT_POSITION = 4;

/** What one dump packet means for the stream of file events. */
export type StreamStep =
  /** A real event of the current file, at this offset; `nextPosition` is its header's log_pos. */
  | { readonly kind: 'event'; readonly position: number; readonly nextPosition: number }
  /** The fake ROTATE: the events that follow are from `file`, starting at `position`. */
  | { readonly kind: 'switch'; readonly file: string; readonly position: number }
  /** Artificial events that are in no file (heartbeats, fake GTID_LIST): not yielded. */
  | { readonly kind: 'skip' };

const CHECKSUM_LENGTH = 4;

/**
 * Classifies one event received from a dump, `bytes[start..end)`.
 * `checksums` says whether the server appends CRC32 to the events it makes
 * up itself (the checksum agreed at connect time), which the fake ROTATE's
 * name must not include.
 */
export function stepOf(
  bytes: Buffer,
  checksums: boolean,
  where: { file?: string; next: number },
  start = 0,
  end = bytes.length,
): StreamStep {
  // Read in place, no reader or header object: a dump asks this for every event.
  const size = end - start;
  if (size < EVENT_HEADER_LENGTH) {
    throw corruptEvent(
      bytes,
      start,
      end,
      where,
      `the server sent a ${size}-byte event, shorter than an event header`,
    );
  }
  const type = bytes[start + 4] as number;
  const length = bytes.readUInt32LE(start + 9);
  const nextPosition = bytes.readUInt32LE(start + 13);
  const flags = bytes.readUInt16LE(start + 17);
  if (length !== size) {
    throw corruptEvent(
      bytes,
      start,
      end,
      where,
      `the server sent a ${size}-byte event whose header says ${length} bytes`,
    );
  }
  if (type === EventType.ROTATE && (flags & EventFlag.ARTIFICIAL || nextPosition === 0)) {
    const body = new ByteReader(bytes, start + EVENT_HEADER_LENGTH, end - (checksums ? CHECKSUM_LENGTH : 0));
    const position = body.u64Number();
    return { kind: 'switch', position, file: body.string(body.remaining, 'utf8') };
  }
  if (flags & EventFlag.ARTIFICIAL || type === EventType.HEARTBEAT || type === EventType.HEARTBEAT_V2) {
    return SKIP;
  }
  if (nextPosition === 0) {
    // The FORMAT_DESCRIPTION resent before a mid-file start is the file's first event.
    if (type === EventType.FORMAT_DESCRIPTION)
      return { kind: 'event', position: FIRST_EVENT_POSITION, nextPosition };
    return { kind: 'event', position: where.next, nextPosition };
  }
  if (nextPosition < length) {
    throw corruptEvent(
      bytes,
      start,
      end,
      where,
      `event of ${length} bytes claims to end at offset ${nextPosition}`,
    );
  }
  return { kind: 'event', position: nextPosition - length, nextPosition };
}

const SKIP: StreamStep = { kind: 'skip' };

function corruptEvent(
  bytes: Buffer,
  start: number,
  end: number,
  where: { file?: string; next: number },
  message: string,
): SalvageError {
  return new ByteReader(bytes, start, end, { file: where.file, position: where.next }).corrupt(message);
}

/** A place in a server's binlog: file and byte offset. */
export interface BinlogCoordinates {
  readonly file: string;
  readonly position: number;
}

/** True when an event ending at `end` in `file` reaches or passes `target`. */
export function reaches(file: string, end: number, target: BinlogCoordinates): boolean {
  return reachesIn(file, target)(end);
}

/** reaches() for the events of one file, the file names compared once: a dump asks it for every event. */
export function reachesIn(file: string, target: BinlogCoordinates): (end: number) => boolean {
  const order = compareBinlogFiles(file, target.file);
  if (order !== 0) return () => order > 0;
  return (end) => end >= target.position;
}
