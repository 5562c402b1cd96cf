/**
 * Binlog events with the exact bytes they came from. Archiving writes the
 * bytes; replaying sends some of them back to a server (BINLOG statements);
 * both need the decoded event too (GTIDs, boundaries, CRC32 checks).
 */
import type { Readable } from 'node:stream';
import {
  BINLOG_MAGIC,
  type BinlogEvent,
  decodeEvents,
  type EventStreamOptions,
  type RawEvent,
} from '../binlog/index.js';
import { SalvageError } from '../errors.js';

/** A decoded event and the raw event it was read from (events inside a payload share it). */
export interface EventWithBytes {
  readonly raw: RawEvent;
  readonly event: BinlogEvent;
}

/**
 * Decodes `source` (CRC32 verified by default) and pairs every event with its
 * raw bytes. decodeEvents pulls one raw event and yields what it decodes from
 * it before pulling the next, so the last raw event pulled is the event's own.
 */
export async function* decodeWithBytes(
  source: AsyncIterable<RawEvent>,
  options: EventStreamOptions = {},
): AsyncGenerator<EventWithBytes> {
  let last: RawEvent | undefined;
  async function* tap(): AsyncGenerator<RawEvent> {
    for await (const raw of source) {
      last = raw;
      yield raw;
    }
  }
  for await (const event of decodeEvents(tap(), options)) {
    if (last === undefined) throw new SalvageError('INTERNAL', 'decoded an event before reading one');
    yield { raw: last, event };
  }
}

/** MySQL and MariaDB cap events at 1 GiB. */
const MAX_EVENT_LENGTH = 1024 * 1024 * 1024;

/**
 * Splits a byte stream of binlog events (a whole file with its magic, or a
 * run of events starting at `position`) into RawEvents. A stream that ends
 * inside an event is BINLOG_TRUNCATED: archived objects only ever hold whole events.
 */
export async function* splitRawEvents(
  bytes: Readable | AsyncIterable<Buffer>,
  file: string,
  position: number,
): AsyncGenerator<RawEvent> {
  let pending: Buffer = Buffer.alloc(0);
  let offset = position;
  let magicLeft = position === 0 ? BINLOG_MAGIC.length : 0;
  for await (const chunk of bytes as AsyncIterable<Buffer>) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    if (magicLeft > 0) {
      if (pending.length < magicLeft) continue;
      if (!pending.subarray(0, magicLeft).equals(BINLOG_MAGIC)) {
        throw new SalvageError(
          'NOT_A_BINLOG',
          `archived ${file} does not start with the binlog magic bytes`,
          {
            context: { file },
          },
        );
      }
      pending = pending.subarray(magicLeft);
      offset += magicLeft;
      magicLeft = 0;
    }
    let start = 0;
    while (pending.length - start >= 13) {
      const length = pending.readUInt32LE(start + 9);
      if (length < 19 || length > MAX_EVENT_LENGTH) {
        throw new SalvageError(
          'BINLOG_CORRUPT',
          `archived ${file} holds an event of impossible length ${length} at ${offset}`,
          {
            context: { file, position: offset },
          },
        );
      }
      if (pending.length - start < length) break;
      yield { file, position: offset, bytes: Buffer.from(pending.subarray(start, start + length)) };
      start += length;
      offset += length;
    }
    pending = pending.subarray(start);
  }
  if (pending.length > 0 || magicLeft > 0) {
    throw new SalvageError('BINLOG_TRUNCATED', `archived ${file} ends inside an event at ${offset}`, {
      context: { file, position: offset },
    });
  }
}
