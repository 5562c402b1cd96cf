/**
 * USER_VAR_EVENT: a user variable the next statement reads (`User_var_log_event`).
 * The value is kept as raw bytes in the server's encoding for its type
 * (STRING: text in `charset`; INT: 8-byte little-endian; REAL: double;
 * DECIMAL: precision, scale, then binary decimal).
 */
import type { ByteReader } from '../byte-reader.js';
import type { EventHeader } from './header.js';

export const UserVarType = { STRING: 0, REAL: 1, INT: 2, ROW: 3, DECIMAL: 4 } as const;

export interface UserVarEvent {
  readonly kind: 'user-var';
  readonly header: EventHeader;
  readonly name: string;
  /** Undefined when the variable is NULL. */
  readonly value?: {
    readonly type: number;
    readonly charset: number;
    readonly bytes: Buffer;
    readonly unsigned: boolean;
  };
}

export function decodeUserVar(r: ByteReader, header: EventHeader): UserVarEvent {
  const name = r.string(r.u32());
  const isNull = r.u8() !== 0;
  if (isNull) return { kind: 'user-var', header, name };
  const type = r.u8();
  const charset = r.u32();
  const bytes = Buffer.from(r.bytes(r.u32()));
  // A flags byte (UNSIGNED_F) follows since MySQL 5.1.
  const unsigned = r.remaining > 0 ? (r.u8() & 1) === 1 : false;
  return { kind: 'user-var', header, name, value: { type, charset, bytes, unsigned } };
}
