/**
 * MariaDB's GTID events: GTID_EVENT (162) opens every event group,
 * GTID_LIST_EVENT (163) holds the binlog state at the start of a file,
 * BINLOG_CHECKPOINT_EVENT (161) names the oldest binlog crash recovery needs.
 */
import type { ByteReader } from '../byte-reader.js';
import type { EventHeader } from './header.js';

export const MariadbGtidFlag = {
  STANDALONE: 0x01,
  GROUP_COMMIT_ID: 0x02,
  TRANSACTIONAL: 0x04,
  ALLOW_PARALLEL: 0x08,
  WAITED: 0x10,
  DDL: 0x20,
  PREPARED_XA: 0x40,
  COMPLETED_XA: 0x80,
} as const;

export interface MariadbGtidEvent {
  readonly kind: 'mariadb-gtid';
  readonly header: EventHeader;
  /** `domain-server-sequence`. */
  readonly gtid: string;
  readonly domainId: number;
  readonly sequence: bigint;
  readonly flags: number;
  /** A group without BEGIN/COMMIT (DDL, non-transactional): it ends after its one statement. */
  readonly standalone: boolean;
  readonly commitId?: bigint;
  /** XA PREPARE / XA COMMIT groups carry the XID. */
  readonly xa?: { readonly formatId: number; readonly gtrid: Buffer; readonly bqual: Buffer };
}

export function decodeMariadbGtid(r: ByteReader, header: EventHeader): MariadbGtidEvent {
  const sequence = r.u64();
  const domainId = r.u32();
  const flags = r.u8();
  const commitId = flags & MariadbGtidFlag.GROUP_COMMIT_ID ? r.u64() : undefined;
  let xa: MariadbGtidEvent['xa'];
  if (flags & (MariadbGtidFlag.PREPARED_XA | MariadbGtidFlag.COMPLETED_XA)) {
    const formatId = r.u32();
    const gtridLength = r.u8();
    const bqualLength = r.u8();
    xa = { formatId, gtrid: Buffer.from(r.bytes(gtridLength)), bqual: Buffer.from(r.bytes(bqualLength)) };
  }
  return {
    kind: 'mariadb-gtid',
    header,
    gtid: `${domainId}-${header.serverId}-${sequence}`,
    domainId,
    sequence,
    flags,
    standalone: (flags & MariadbGtidFlag.STANDALONE) !== 0,
    commitId,
    xa,
  };
}

export interface MariadbGtidListEvent {
  readonly kind: 'mariadb-gtid-list';
  readonly header: EventHeader;
  /** One `domain-server-sequence` per replication domain. */
  readonly gtids: readonly string[];
}

export function decodeMariadbGtidList(r: ByteReader, header: EventHeader): MariadbGtidListEvent {
  // The top 4 bits of the count are flags (FLAG_UNTIL_REACHED, FLAG_IGN_GTIDS).
  const count = r.u32() & 0x0fffffff;
  if (count * 16 > r.remaining)
    throw r.corrupt(`GTID_LIST claims ${count} entries, more than the event holds`);
  const gtids: string[] = [];
  for (let i = 0; i < count; i++) {
    const domain = r.u32();
    const server = r.u32();
    gtids.push(`${domain}-${server}-${r.u64()}`);
  }
  return { kind: 'mariadb-gtid-list', header, gtids };
}

export interface BinlogCheckpointEvent {
  readonly kind: 'binlog-checkpoint';
  readonly header: EventHeader;
  readonly file: string;
}

export function decodeBinlogCheckpoint(r: ByteReader, header: EventHeader): BinlogCheckpointEvent {
  return { kind: 'binlog-checkpoint', header, file: r.string(r.u32()) };
}
