/**
 * HEARTBEAT_LOG_EVENT (27) and HEARTBEAT_LOG_EVENT_V2 (41): sent on an idle
 * replication connection, never written to a file. Only the v1 log name is
 * decoded; v2 (serialization-library format) is kept raw.
 */
import type { ByteReader } from '../byte-reader.js';
import { EventType } from '../event-types.js';
import type { EventHeader } from './header.js';

export interface HeartbeatEvent {
  readonly kind: 'heartbeat';
  readonly header: EventHeader;
  /** The source's current binlog (v1 only). */
  readonly logName?: string;
}

export function decodeHeartbeat(r: ByteReader, header: EventHeader): HeartbeatEvent {
  if (header.type === EventType.HEARTBEAT)
    return { kind: 'heartbeat', header, logName: r.string(r.remaining) };
  return { kind: 'heartbeat', header };
}
