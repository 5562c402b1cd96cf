/** INTVAR_EVENT: LAST_INSERT_ID() or INSERT_ID for the next statement (`Intvar_log_event`). */
import type { ByteReader } from '../byte-reader.js';
import type { EventHeader } from './header.js';

export interface IntvarEvent {
  readonly kind: 'intvar';
  readonly header: EventHeader;
  readonly variable: 'LAST_INSERT_ID' | 'INSERT_ID' | 'INVALID';
  readonly value: bigint;
}

const VARIABLES = ['INVALID', 'LAST_INSERT_ID', 'INSERT_ID'] as const;

export function decodeIntvar(r: ByteReader, header: EventHeader): IntvarEvent {
  const code = r.u8();
  return { kind: 'intvar', header, variable: VARIABLES[code] ?? 'INVALID', value: r.u64() };
}
