/**
 * The v4 common event header (19 bytes): timestamp, type, server id, event
 * length, next position, flags (`LOG_EVENT_HEADER_LEN` in the server source).
 */
import type { ByteReader } from '../byte-reader.js';

export const EVENT_HEADER_LENGTH = 19;

export interface EventHeader {
  /** The binlog file the event is in. */
  readonly file: string;
  /** Offset of the event in that file; for an event inside a TRANSACTION_PAYLOAD, the payload event's offset. */
  readonly position: number;
  /** Offset inside the decompressed TRANSACTION_PAYLOAD, for events that came from one. */
  readonly payloadOffset?: number;
  /** Seconds since the epoch when the statement started (not the commit). */
  readonly timestamp: number;
  readonly type: number;
  readonly serverId: number;
  /** Length of the whole event including header and checksum. */
  readonly length: number;
  /** `log_pos`: the position after this event in the writing server's binlog (0 for artificial events). */
  readonly nextPosition: number;
  readonly flags: number;
}

export function decodeEventHeader(
  r: ByteReader,
  file: string,
  position: number,
  payloadOffset?: number,
): EventHeader {
  return {
    file,
    position,
    payloadOffset,
    timestamp: r.u32(),
    type: r.u8(),
    serverId: r.u32(),
    length: r.u32(),
    nextPosition: r.u32(),
    flags: r.u16(),
  };
}
