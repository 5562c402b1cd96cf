/**
 * Binlog events with the exact bytes they came from. Archiving writes the
 * bytes; replaying sends some of them back to a server (BINLOG statements);
 * both need the decoded event too (GTIDs, boundaries, CRC32 checks).
 */
import type { Readable } from 'node:stream';
import {
  BINLOG_MAGIC,
  type BinlogEvent,
  type EventStreamOptions,
  eventDecoder,
  type RawEvent,
} from '../binlog/index.js';
import { SalvageError } from '../errors.js';

/** A decoded event and the raw event it was read from (events inside a payload share it). */
export interface EventWithBytes {
  readonly raw: RawEvent;
  readonly event: BinlogEvent;
}

/** Decodes `source` (CRC32 verified by default) and pairs every event with its raw bytes. */
export async function* decodeWithBytes(
  source: AsyncIterable<RawEvent>,
  options: EventStreamOptions = {},
): AsyncGenerator<EventWithBytes> {
  async function* single(): AsyncGenerator<RawEvent[]> {
    for await (const raw of source) yield [raw];
  }
  for await (const batch of decodeBatchesWithBytes(single(), options)) yield* batch;
}

/**
 * decodeWithBytes for batches of raw events (one await per batch, not per
 * event: the restore reads hundreds of thousands). Events decoded before an
 * error are delivered, then the error.
 */
export async function* decodeBatchesWithBytes(
  source: AsyncIterable<readonly RawEvent[]>,
  options: EventStreamOptions = {},
): AsyncGenerator<EventWithBytes[]> {
  const decode = eventDecoder(options);
  const decoded: BinlogEvent[] = [];
  for await (const raws of source) {
    const out: EventWithBytes[] = [];
    try {
      for (const raw of raws) {
        try {
          decode(raw, decoded);
        } finally {
          for (const event of decoded) out.push({ raw, event });
          decoded.length = 0;
        }
      }
    } finally {
      if (out.length > 0) yield out;
    }
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
  for await (const batch of splitRawEventBatches(bytes, file, position)) yield* batch;
}

/** splitRawEvents, the events of each chunk read as one batch. */
export async function* splitRawEventBatches(
  bytes: Readable | AsyncIterable<Buffer>,
  file: string,
  position: number,
): AsyncGenerator<RawEvent[]> {
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
    const batch: { position: number; start: number; length: number }[] = [];
    // One copy of the chunk's whole events, which the events then share.
    const emit = (): RawEvent[] => {
      const copy = Buffer.from(pending.subarray(0, start));
      return batch.map((e) => ({
        file,
        position: e.position,
        bytes: copy.subarray(e.start, e.start + e.length),
      }));
    };
    while (pending.length - start >= 13) {
      const length = pending.readUInt32LE(start + 9);
      if (length < 19 || length > MAX_EVENT_LENGTH) {
        if (batch.length > 0) yield emit();
        throw new SalvageError(
          'BINLOG_CORRUPT',
          `archived ${file} holds an event of impossible length ${length} at ${offset}`,
          {
            context: { file, position: offset },
          },
        );
      }
      if (pending.length - start < length) break;
      batch.push({ position: offset, start, length });
      start += length;
      offset += length;
    }
    const events = batch.length > 0 ? emit() : [];
    pending = pending.subarray(start);
    if (events.length > 0) yield events;
  }
  if (pending.length > 0 || magicLeft > 0) {
    throw new SalvageError('BINLOG_TRUNCATED', `archived ${file} ends inside an event at ${offset}`, {
      context: { file, position: offset },
    });
  }
}
