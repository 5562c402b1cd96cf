/** INCIDENT_EVENT: the server lost changes (e.g. LOST_EVENTS); replicas stop here (`Incident_log_event`). */
import type { ByteReader } from '../byte-reader.js';
import type { EventHeader } from './header.js';

export interface IncidentEvent {
  readonly kind: 'incident';
  readonly header: EventHeader;
  /** 1 = LOST_EVENTS, 2 = LOST_EVENTS_ON_TRX_FAIL (MySQL). */
  readonly incident: number;
  readonly message: string;
}

export function decodeIncident(r: ByteReader, header: EventHeader): IncidentEvent {
  const incident = r.u16();
  const message = r.remaining > 0 ? r.string8() : '';
  return { kind: 'incident', header, incident, message };
}
