/**
 * Turns the packets of a binlog dump into file coordinates. The server
 * prefixes every file with events that are not in it: a fake ROTATE naming
 * the file (flag ARTIFICIAL, timestamp and log_pos 0), and when the dump
 * starts past offset 4, the file's FORMAT_DESCRIPTION again with log_pos 0
 * (`send_format_descriptor_event` in sql_repl.cc). Heartbeats and MariaDB's
 * fake GTID_LIST are artificial too. Real events carry log_pos, the offset
 * just past them, so their own offset is log_pos minus their length.
 */
import { ByteReader } from '../byte-reader.js';
import { EventFlag, EventType } from '../event-types.js';
import { decodeEventHeader, EVENT_HEADER_LENGTH, type EventHeader } from '../events/header.js';
import { compareBinlogFiles } from '../file-names.js';

/** Offset of the first event in every binlog file, after the magic bytes. */
export const FIRST_EVENT_POSITION = 4;

/** What one dump packet means for the stream of file events. */
export type StreamStep =
  /** A real event of the current file, at this offset. */
  | { readonly kind: 'event'; readonly position: number; readonly header: EventHeader }
  /** The fake ROTATE: the events that follow are from `file`, starting at `position`. */
  | { readonly kind: 'switch'; readonly file: string; readonly position: number }
  /** Artificial events that are in no file (heartbeats, fake GTID_LIST): not yielded. */
  | { readonly kind: 'skip'; readonly header: EventHeader };

const CHECKSUM_LENGTH = 4;

/**
 * Classifies one event received from a dump. `checksums` says whether the
 * server appends CRC32 to the events it makes up itself (the checksum agreed
 * at connect time), which the fake ROTATE's name must not include.
 */
export function stepOf(
  bytes: Buffer,
  checksums: boolean,
  where: { file?: string; next: number },
): StreamStep {
  const reader = new ByteReader(bytes, 0, bytes.length, { file: where.file, position: where.next });
  // The header's own file/position are provisional here: working out the real offset is this function's job.
  const header = decodeEventHeader(reader, where.file ?? '', where.next);
  if (header.length !== bytes.length) {
    throw reader.corrupt(
      `the server sent a ${bytes.length}-byte event whose header says ${header.length} bytes`,
    );
  }
  if (
    header.type === EventType.ROTATE &&
    (header.flags & EventFlag.ARTIFICIAL || header.nextPosition === 0)
  ) {
    const body = new ByteReader(bytes, EVENT_HEADER_LENGTH, bytes.length - (checksums ? CHECKSUM_LENGTH : 0));
    const position = body.u64Number();
    return { kind: 'switch', position, file: body.string(body.remaining, 'utf8') };
  }
  if (
    header.flags & EventFlag.ARTIFICIAL ||
    header.type === EventType.HEARTBEAT ||
    header.type === EventType.HEARTBEAT_V2
  ) {
    return { kind: 'skip', header };
  }
  if (header.nextPosition === 0) {
    // The FORMAT_DESCRIPTION resent before a mid-file start is the file's first event.
    if (header.type === EventType.FORMAT_DESCRIPTION)
      return { kind: 'event', position: FIRST_EVENT_POSITION, header };
    return { kind: 'event', position: where.next, header };
  }
  if (header.nextPosition < header.length) {
    throw reader.corrupt(`event of ${header.length} bytes claims to end at offset ${header.nextPosition}`);
  }
  return { kind: 'event', position: header.nextPosition - header.length, header };
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
