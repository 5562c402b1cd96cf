/** RAND_EVENT: the RAND() seeds of the next statement (`Rand_log_event`). */
import type { ByteReader } from '../byte-reader.js';
import type { EventHeader } from './header.js';

export interface RandEvent {
  readonly kind: 'rand';
  readonly header: EventHeader;
  readonly seed1: bigint;
  readonly seed2: bigint;
}

export function decodeRand(r: ByteReader, header: EventHeader): RandEvent {
  return { kind: 'rand', header, seed1: r.u64(), seed2: r.u64() };
}
