/** ROTATE_EVENT: the next binlog file and the position to continue at (`Rotate_log_event`). */
import type { ByteReader } from '../byte-reader.js';
import { type BinlogFormat, postHeaderLength } from './format-description.js';
import type { EventHeader } from './header.js';

export interface RotateEvent {
  readonly kind: 'rotate';
  readonly header: EventHeader;
  readonly nextFile: string;
  readonly nextPosition: number;
  /** Fake rotates a server sends at the start of a dump or writes into relay logs (LOG_EVENT_ARTIFICIAL_F). */
  readonly artificial: boolean;
}

export function decodeRotate(r: ByteReader, header: EventHeader, format: BinlogFormat): RotateEvent {
  const nextPosition = postHeaderLength(format, header.type, 8) >= 8 ? r.u64Number() : 4;
  return {
    kind: 'rotate',
    header,
    nextPosition,
    nextFile: r.string(r.remaining),
    artificial: (header.flags & 0x20) !== 0,
  };
}
