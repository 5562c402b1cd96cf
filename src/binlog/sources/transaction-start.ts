/**
 * Where the first of some transactions starts in binlog files, found by
 * stepping from event header to event header: only FORMAT_DESCRIPTION and
 * GTID events are decoded, nothing else is copied or checked beyond its
 * header (a reader starting there verifies what it reads).
 */
import { basename } from 'node:path';
import { EventType } from '../event-types.js';
import { type BinlogFormat, DEFAULT_FORMAT } from '../events/format-description.js';
import { decodeEvent } from '../events/index.js';
import type { GtidSelection } from '../gtid-list.js';
import { firstFileHolding, type LoggedBefore, parseGtidState } from '../gtid-state.js';
import { readBinlogFileChunks } from './files.js';
import { seekTransactions } from './seek.js';

/** A transaction's first event: a file of the list and the offset of its GTID event. */
export interface TransactionStart {
  readonly fileIndex: number;
  readonly file: string;
  readonly position: number;
  /** Found by bisection: a transaction of the set may still lie before it if the file logged them out of order. */
  readonly sought: boolean;
}

/** START_ENCRYPTION is decoded so that an encrypted file is refused, not misread. */
const HEADS: ReadonlySet<number> = new Set([
  EventType.FORMAT_DESCRIPTION,
  EventType.START_ENCRYPTION,
  EventType.GTID,
  EventType.GTID_TAGGED,
  EventType.MARIADB_GTID,
]);

/**
 * The first transaction of `gtids` in `files`; undefined when none of them
 * is there. Files that every one of them was logged after (by the GTID
 * state the next file starts with) are not read at all, and within a large
 * file the stepping can start where a bisection on GTID sequence numbers
 * says (`seek`; `sought` tells the caller to check that every transaction
 * was found).
 */
export async function findTransactionStart(
  files: readonly string[],
  gtids: GtidSelection,
  options: { readonly seek?: boolean } = {},
): Promise<TransactionStart | undefined> {
  const from = await firstFileHolding(
    files.length,
    async (k) => (await readOpening(files[k] as string)).state,
    gtids,
  );
  for (const [fileIndex, path] of files.entries()) {
    if (fileIndex < from) continue;
    const file = basename(path);
    const opening = await readOpening(path);
    const seek =
      options.seek !== true || opening.encrypted || opening.format === undefined
        ? undefined
        : await seekTransactions(path, gtids, opening.format, opening.firstEvent);
    const startsWanted = headReader(gtids);
    for await (const chunk of readBinlogFileChunks(path, { from: seek })) {
      const { buffer } = chunk;
      let position = chunk.position;
      for (let at = chunk.start; at < chunk.end; ) {
        const length = buffer.readUInt32LE(at + 9);
        if (startsWanted(buffer, at, at + length, file, position))
          return { fileIndex, file, position, sought: seek !== undefined };
        at += length;
        position += length;
      }
    }
  }
  // Sequence numbers out of order can lead every bisection past the transaction: step through all.
  return options.seek === true ? findTransactionStart(files, gtids) : undefined;
}

/**
 * A gate for the events of a stream (a server's dump), asked of each event
 * in order (`bytes[start..end)`): true from the first transaction of
 * `gtids` on; before it, only for FORMAT_DESCRIPTIONs (which govern how the
 * rest decodes) and for what it cannot read (an encrypted log's
 * START_ENCRYPTION, a damaged GTID event), which the decoder then refuses
 * with its place in the log. Nothing but those and GTID events is decoded.
 */
export function transactionGate(
  gtids: GtidSelection,
): (bytes: Buffer, start: number, end: number) => boolean {
  const startsWanted = headReader(gtids);
  let found = false;
  return (bytes, start, end) => {
    if (found) return true;
    try {
      found = startsWanted(bytes, start, end, '', 0);
    } catch {
      return true;
    }
    return found || bytes[start + 4] === EventType.FORMAT_DESCRIPTION;
  };
}

/**
 * Reads the heads of one file's events in order, `bytes[start..end)` at
 * `position` each: FORMAT_DESCRIPTIONs (which govern how the rest decodes)
 * and GTID events, nothing else. True at the GTID event that starts a
 * transaction of `gtids`.
 */
function headReader(
  gtids: GtidSelection,
): (bytes: Buffer, start: number, end: number, file: string, position: number) => boolean {
  let format: BinlogFormat = DEFAULT_FORMAT;
  return (bytes, start, end, file, position) => {
    const type = bytes[start + 4] as number;
    if (!HEADS.has(type)) return false;
    const isFde = type === EventType.FORMAT_DESCRIPTION;
    const event = decodeEvent(bytes, start, end, format, format.checksum && !isFde, { file, position });
    if (event.kind === 'format-description') format = event.format;
    else if (event.kind === 'gtid' || event.kind === 'mariadb-gtid') return gtids.has(event.gtid ?? '');
    return false;
  };
}

/** Events a file can start with before its GTID state: FORMAT_DESCRIPTION, START_ENCRYPTION, checkpoints. */
const STATE_WITHIN = 4;

/** What a binlog file's first events say. */
interface FileOpening {
  /** Its FORMAT_DESCRIPTION's; undefined when the file does not start with one. */
  readonly format: BinlogFormat | undefined;
  /** The offset of the event after the FORMAT_DESCRIPTION. */
  readonly firstEvent: number;
  /** A START_ENCRYPTION follows: nothing after it can be read from the file. */
  readonly encrypted: boolean;
  /** The GTID state it starts with (GTID_LIST, PREVIOUS_GTIDS); undefined when its first events hold none. */
  readonly state: LoggedBefore | undefined;
}

async function readOpening(path: string): Promise<FileOpening> {
  const file = basename(path);
  let format: BinlogFormat | undefined;
  let firstEvent = 4;
  let seen = 0;
  const opening = (state?: LoggedBefore, encrypted = false): FileOpening => ({
    format,
    firstEvent,
    encrypted,
    state,
  });
  for await (const chunk of readBinlogFileChunks(path, { chunkSize: 64 * 1024 })) {
    const { buffer } = chunk;
    let position = chunk.position;
    for (let at = chunk.start; at < chunk.end; ) {
      const length = buffer.readUInt32LE(at + 9);
      const type = buffer[at + 4] as number;
      if (type === EventType.START_ENCRYPTION) return opening(undefined, true);
      if (
        type !== EventType.FORMAT_DESCRIPTION &&
        type !== EventType.MARIADB_GTID_LIST &&
        type !== EventType.PREVIOUS_GTIDS
      ) {
        if (++seen >= STATE_WITHIN || HEADS.has(type)) return opening();
      } else {
        const isFde = type === EventType.FORMAT_DESCRIPTION;
        const current = format ?? DEFAULT_FORMAT;
        const event = decodeEvent(buffer, at, at + length, current, current.checksum && !isFde, {
          file,
          position,
        });
        if (event.kind === 'format-description') {
          format = event.format;
          firstEvent = position + length;
        } else if (event.kind === 'mariadb-gtid-list') return opening(parseGtidState(event.gtids.join(',')));
        else if (event.kind === 'previous-gtids') return opening(parseGtidState(event.gtidSet));
      }
      at += length;
      position += length;
    }
  }
  return opening();
}
