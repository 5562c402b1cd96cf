/**
 * Payloads of the replication commands a replica sends (the packet header
 * is added by the wire layer). Layouts follow `com_binlog_dump` and
 * `com_binlog_dump_gtid` in the server sources.
 */
import { SalvageError } from '../../errors.js';

/** `enum_server_command` codes used here. */
export const Command = {
  BINLOG_DUMP: 0x12,
  BINLOG_DUMP_GTID: 0x1e,
} as const;

/** Flags of COM_BINLOG_DUMP(_GTID). */
export const DumpFlag = {
  /** Send an EOF packet at the end of the log instead of waiting for new events. */
  NON_BLOCK: 0x01,
  /** MariaDB: send ANNOTATE_ROWS events (a GTID-capable replica otherwise gets none). */
  SEND_ANNOTATE_ROWS: 0x02,
  /** MySQL COM_BINLOG_DUMP_GTID: the start is the GTID set in the payload. */
  THROUGH_GTID: 0x04,
} as const;

/**
 * MariaDB replica capability announced with `SET @mariadb_slave_capability`
 * (`MARIA_SLAVE_CAPABILITY_GTID` in log_event.h): GTID, GTID_LIST and
 * BINLOG_CHECKPOINT events then arrive as written instead of rewritten.
 */
export const MARIADB_CAPABILITY_GTID = 4;

/** COM_BINLOG_DUMP: position (4), flags (2), replica server id (4), file name (rest). */
export function binlogDumpPayload(file: string, position: number, flags: number, serverId: number): Buffer {
  const name = Buffer.from(file, 'utf8');
  const out = Buffer.alloc(11 + name.length);
  out.writeUInt8(Command.BINLOG_DUMP, 0);
  // The field is 4 bytes: positions past 4 GiB cannot be asked for this way (the server has the same limit).
  out.writeUInt32LE(position, 1);
  out.writeUInt16LE(flags, 5);
  out.writeUInt32LE(serverId, 7);
  name.copy(out, 11);
  return out;
}

/**
 * MySQL COM_BINLOG_DUMP_GTID: flags (2), server id (4), name length (4),
 * name, position (8), GTID-set length (4), GTID set (binary).
 */
export function binlogDumpGtidPayload(gtidSet: Buffer, flags: number, serverId: number): Buffer {
  const out = Buffer.alloc(1 + 2 + 4 + 4 + 8 + 4 + gtidSet.length);
  let at = out.writeUInt8(Command.BINLOG_DUMP_GTID, 0);
  at = out.writeUInt16LE(flags | DumpFlag.THROUGH_GTID, at);
  at = out.writeUInt32LE(serverId, at);
  at = out.writeUInt32LE(0, at); // no file name: the GTID set decides where to start
  at = out.writeBigUInt64LE(4n, at);
  at = out.writeUInt32LE(gtidSet.length, at);
  gtidSet.copy(out, at);
  return out;
}

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/**
 * Encodes a MySQL GTID set (`uuid:1-5:7,uuid2:3`) as `Gtid_set::encode`
 * does: number of sources (8), then per source its UUID (16), number of
 * intervals (8) and each interval as start and exclusive end (8 + 8).
 * Tagged GTIDs (MySQL 8.3+) use another encoding and are refused.
 */
export function encodeMysqlGtidSet(text: string): Buffer {
  const bad = (why: string): SalvageError =>
    new SalvageError('BAD_INPUT', `Invalid MySQL GTID set "${text}": ${why}.`, {
      hint: 'Write it as uuid:first-last[:first-last...][,uuid:...], as SELECT @@gtid_executed prints it.',
    });
  const sources = text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  const chunks: Buffer[] = [u64(sources.length)];
  for (const source of sources) {
    const [uuid = '', ...ranges] = source.split(':');
    if (!UUID_RE.test(uuid)) throw bad(`"${uuid}" is not a UUID`);
    if (ranges.length === 0) throw bad(`"${source}" has no transaction numbers`);
    chunks.push(Buffer.from(uuid.replaceAll('-', ''), 'hex'), u64(ranges.length));
    for (const range of ranges) {
      const match = /^(\d+)(?:-(\d+))?$/.exec(range.trim());
      if (!match) throw bad(`"${range}" is not a number or range (tagged GTIDs are not supported)`);
      const first = BigInt(match[1] as string);
      const last = BigInt(match[2] ?? (match[1] as string));
      if (first < 1n || last < first)
        throw bad(`"${range}" is not an increasing range starting at 1 or more`);
      chunks.push(u64(first), u64(last + 1n));
    }
  }
  return Buffer.concat(chunks);
}

function u64(value: number | bigint): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(BigInt(value));
  return out;
}

/** A MariaDB GTID position: comma-separated `domain-server-sequence`, one per domain. */
export function checkMariadbGtidPosition(text: string): string {
  const parts = text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  const domains = new Set<string>();
  for (const part of parts) {
    const match = /^(\d+)-(\d+)-(\d+)$/.exec(part);
    if (!match) {
      throw new SalvageError('BAD_INPUT', `Invalid MariaDB GTID "${part}" in "${text}".`, {
        hint: 'Write a MariaDB GTID as domain-server-sequence, e.g. 0-1-100; several (one per domain) separated by commas.',
      });
    }
    if (domains.has(match[1] as string)) {
      throw new SalvageError('BAD_INPUT', `The GTID position "${text}" names domain ${match[1]} twice.`, {
        hint: 'Give one GTID per replication domain: the last transaction already seen in it.',
      });
    }
    domains.add(match[1] as string);
  }
  if (parts.length === 0) throw new SalvageError('BAD_INPUT', 'The GTID position is empty.');
  return parts.join(',');
}
