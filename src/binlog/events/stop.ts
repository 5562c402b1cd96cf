/** STOP_EVENT: the server shut down cleanly; the binlog ends here (`Stop_log_event`). */
import type { EventHeader } from './header.js';

export interface StopEvent {
  readonly kind: 'stop';
  readonly header: EventHeader;
}

export function decodeStop(header: EventHeader): StopEvent {
  return { kind: 'stop', header };
}
