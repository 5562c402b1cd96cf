/**
 * MySQL GTID_LOG_EVENT (33), ANONYMOUS_GTID_LOG_EVENT (34) and
 * GTID_TAGGED_LOG_EVENT (42, MySQL 8.4+): the first event of every
 * transaction. From 8.0.1 they carry the original and immediate commit
 * timestamps in microseconds (`Gtid_event` in control_events).
 */
import type { ByteReader } from '../byte-reader.js';
import { EventType } from '../event-types.js';
import type { EventHeader } from './header.js';

export interface GtidEvent {
  readonly kind: 'gtid';
  readonly header: EventHeader;
  /** `uuid:n` or `uuid:tag:n`; undefined for ANONYMOUS_GTID (GTID mode off). */
  readonly gtid: string | undefined;
  readonly sid: string;
  readonly gno: number;
  readonly tag?: string;
  /** GTID flags (bit 0: the transaction may be applied with row-based replication only). */
  readonly flags: number;
  readonly lastCommitted?: number;
  readonly sequenceNumber?: number;
  /** Commit time on the server that wrote this binlog, microseconds since the epoch. */
  readonly immediateCommitTimestamp?: number;
  /** Commit time on the server where the transaction originated, microseconds since the epoch. */
  readonly originalCommitTimestamp?: number;
  readonly transactionLength?: number;
  readonly immediateServerVersion?: number;
  readonly originalServerVersion?: number;
}

/** Formats 16 bytes as a UUID (8-4-4-4-12). */
export function formatUuid(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const LOGICAL_TIMESTAMP_TYPECODE = 2;
const HIGH_BIT_56 = 2 ** 55;
const HIGH_BIT_32 = 2 ** 31;

export function decodeGtid(r: ByteReader, header: EventHeader): GtidEvent {
  if (header.type === EventType.GTID_TAGGED) return decodeTaggedGtid(r, header);
  const flags = r.u8();
  const sid = formatUuid(r.bytes(16));
  const gno = Number(r.i64());
  const anonymous = header.type === EventType.ANONYMOUS_GTID;
  const base = {
    kind: 'gtid' as const,
    header,
    flags,
    sid,
    gno,
    gtid: anonymous ? undefined : `${sid}:${gno}`,
  };
  if (r.remaining === 0 || r.buffer[r.pos] !== LOGICAL_TIMESTAMP_TYPECODE) return base;
  r.skip(1);
  const lastCommitted = Number(r.i64());
  const sequenceNumber = Number(r.i64());
  if (r.remaining < 7) return { ...base, lastCommitted, sequenceNumber };
  let immediateCommitTimestamp = r.uintLE(7);
  let originalCommitTimestamp = immediateCommitTimestamp;
  // The top bit of the 56-bit immediate timestamp says an original timestamp follows.
  if (immediateCommitTimestamp >= HIGH_BIT_56) {
    immediateCommitTimestamp -= HIGH_BIT_56;
    originalCommitTimestamp = r.uintLE(7);
  }
  const transactionLength = r.remaining > 0 ? r.packedInt() : undefined;
  let immediateServerVersion: number | undefined;
  let originalServerVersion: number | undefined;
  if (r.remaining >= 4) {
    immediateServerVersion = r.u32();
    originalServerVersion = immediateServerVersion;
    if (immediateServerVersion >= HIGH_BIT_32) {
      immediateServerVersion -= HIGH_BIT_32;
      originalServerVersion = r.u32();
    }
  }
  return {
    ...base,
    lastCommitted,
    sequenceNumber,
    immediateCommitTimestamp,
    originalCommitTimestamp,
    transactionLength,
    immediateServerVersion,
    originalServerVersion,
  };
}

/**
 * GTID_TAGGED uses the serialization library: version byte, payload size,
 * last non-ignorable field id, then (field id, value) pairs of variable-length
 * integers (`mysql::serialization`).
 */
function decodeTaggedGtid(r: ByteReader, header: EventHeader): GtidEvent {
  const start = r.pos;
  const version = r.u8();
  if (version !== 2) throw r.corrupt(`GTID_TAGGED event in serialization format ${version}, only 2 is known`);
  const payloadSize = r.varlenUint();
  const lastNonIgnorable = r.varlenUint();
  const fieldsEnd = start + payloadSize;
  if (fieldsEnd > r.end || fieldsEnd < r.pos)
    throw r.corrupt('GTID_TAGGED payload size does not match the event');
  const f = r.sub(fieldsEnd - r.pos);
  let flags = 0;
  let sid = '';
  let gno = 0;
  let tag: string | undefined;
  const fields: Record<number, number> = {};
  while (f.remaining > 0) {
    const id = f.varlenUint();
    if (id === 1) {
      const uuid = new Uint8Array(16);
      for (let i = 0; i < 16; i++) uuid[i] = f.varlenUint() & 0xff;
      sid = formatUuid(uuid);
    } else if (id === 3) {
      tag = f.string(f.varlenUint());
    } else if (id === 2 || id === 4 || id === 5) {
      fields[id] = f.varlenInt();
    } else if (id === 0 || (id >= 6 && id <= 11)) {
      fields[id] = f.varlenUint();
    } else if (id <= lastNonIgnorable) {
      throw f.corrupt(`GTID_TAGGED has unknown required field ${id}`);
    } else {
      break;
    }
  }
  flags = fields[0] ?? 0;
  gno = fields[2] ?? 0;
  const immediate = fields[6];
  const immediateVersion = fields[9];
  return {
    kind: 'gtid',
    header,
    flags,
    sid,
    gno,
    tag,
    gtid: tag ? `${sid}:${tag}:${gno}` : `${sid}:${gno}`,
    lastCommitted: fields[4],
    sequenceNumber: fields[5],
    immediateCommitTimestamp: immediate,
    originalCommitTimestamp: fields[7] ?? immediate,
    transactionLength: fields[8],
    immediateServerVersion: immediateVersion,
    originalServerVersion: fields[10] ?? immediateVersion,
  };
}
