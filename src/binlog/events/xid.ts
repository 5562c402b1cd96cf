/** XID_EVENT: the commit of an InnoDB transaction (`Xid_log_event`). */
import type { ByteReader } from '../byte-reader.js';
import type { EventHeader } from './header.js';

export interface XidEvent {
  readonly kind: 'xid';
  readonly header: EventHeader;
  readonly xid: bigint;
}

export function decodeXid(r: ByteReader, header: EventHeader): XidEvent {
  return { kind: 'xid', header, xid: r.u64() };
}
