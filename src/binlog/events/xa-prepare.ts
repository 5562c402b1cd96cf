/** XA_PREPARE_LOG_EVENT (MySQL 5.7+): ends the first phase of an XA transaction (`XA_prepare_event`). */
import type { ByteReader } from '../byte-reader.js';
import type { EventHeader } from './header.js';

export interface XaPrepareEvent {
  readonly kind: 'xa-prepare';
  readonly header: EventHeader;
  /** XA COMMIT ... ONE PHASE: the transaction commits here. */
  readonly onePhase: boolean;
  readonly formatId: number;
  readonly gtrid: Buffer;
  readonly bqual: Buffer;
}

export function decodeXaPrepare(r: ByteReader, header: EventHeader): XaPrepareEvent {
  const onePhase = r.u8() !== 0;
  const formatId = r.i32();
  const gtridLength = r.u32();
  const bqualLength = r.u32();
  return {
    kind: 'xa-prepare',
    header,
    onePhase,
    formatId,
    gtrid: Buffer.from(r.bytes(gtridLength)),
    bqual: Buffer.from(r.bytes(bqualLength)),
  };
}
