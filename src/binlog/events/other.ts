/**
 * Events salvage recognises but does not decode (kept raw), and event types
 * no known server defines. Both are skipped by their length; the event
 * stream reports them and, in strict mode, refuses those that may change data.
 */
import type { ByteReader } from '../byte-reader.js';
import { EventType } from '../event-types.js';
import type { EventHeader } from './header.js';

export interface OtherEvent {
  readonly kind: 'other';
  readonly header: EventHeader;
  readonly body: Buffer;
}

export interface UnknownEvent {
  readonly kind: 'unknown';
  readonly header: EventHeader;
  readonly body: Buffer;
}

/**
 * Known types whose effect on data salvage cannot reproduce: pre-5.0 LOAD
 * DATA events and the pre-GA rows events of 5.1.0-5.1.15.
 */
const CHANGES_DATA = new Set<number>([
  EventType.LOAD,
  EventType.CREATE_FILE,
  EventType.APPEND_BLOCK,
  EventType.EXEC_LOAD,
  EventType.NEW_LOAD,
  EventType.PRE_GA_WRITE_ROWS,
  EventType.PRE_GA_UPDATE_ROWS,
  EventType.PRE_GA_DELETE_ROWS,
]);

export function mayChangeData(type: number): boolean {
  return CHANGES_DATA.has(type);
}

export function keepOther(r: ByteReader, header: EventHeader): OtherEvent {
  return { kind: 'other', header, body: Buffer.from(r.rest()) };
}

export function keepUnknown(r: ByteReader, header: EventHeader): UnknownEvent {
  return { kind: 'unknown', header, body: Buffer.from(r.rest()) };
}
