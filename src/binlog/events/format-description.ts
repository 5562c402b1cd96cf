/**
 * FORMAT_DESCRIPTION_EVENT: the first event of every binlog. It fixes how the
 * rest of the file is laid out: the post-header length of each event type and
 * whether events end with a CRC32 (`Format_description_log_event`).
 */
import type { ByteReader } from '../byte-reader.js';
import type { Flavor } from '../types.js';
import type { EventHeader } from './header.js';

export const ChecksumAlgorithm = { OFF: 0, CRC32: 1, UNDEFINED: 255 } as const;

/** What the decoders need to know about the file they are reading. */
export interface BinlogFormat {
  readonly binlogVersion: number;
  readonly serverVersion: string;
  readonly flavor: Flavor;
  /** Post-header length per event type code (index = type - 1, as the server stores it). */
  readonly postHeaderLengths: Uint8Array;
  /** True when every event (but those inside TRANSACTION_PAYLOAD) ends with a 4-byte CRC32. */
  readonly checksum: boolean;
}

export interface FormatDescriptionEvent {
  readonly kind: 'format-description';
  readonly header: EventHeader;
  readonly format: BinlogFormat;
  readonly createdAt: number;
  /** The checksum algorithm byte (0 off, 1 CRC32), undefined for servers older than 5.6.1 / MariaDB 5.3. */
  readonly checksumAlgorithm: number | undefined;
}

/** Assumed before the first FDE is read (and by the replication source until it arrives). */
export const DEFAULT_FORMAT: BinlogFormat = {
  binlogVersion: 4,
  serverVersion: '',
  flavor: 'mysql',
  postHeaderLengths: new Uint8Array(0),
  checksum: false,
};

/**
 * Decodes the FDE body. `r` spans the whole body including any checksum
 * trailer: whether there is one is exactly what this event tells us.
 */
export function decodeFormatDescription(r: ByteReader, header: EventHeader): FormatDescriptionEvent {
  const binlogVersion = r.u16();
  const serverVersion = r.fixedString(50, 'latin1');
  const createdAt = r.u32();
  const headerLength = r.u8();
  if (binlogVersion !== 4 || headerLength !== 19) {
    throw r.corrupt(
      `unsupported binlog format version ${binlogVersion} (header length ${headerLength}); only v4 binlogs (MySQL 5.0+, MariaDB) are read`,
    );
  }
  const hasAlgorithm = supportsChecksums(serverVersion);
  // The algorithm byte and the 4-byte CRC follow the post-header lengths.
  const tail = hasAlgorithm ? 5 : 0;
  if (r.remaining < tail) throw r.corrupt('FORMAT_DESCRIPTION event too short for its checksum fields');
  const postHeaderLengths = Uint8Array.from(r.bytes(r.remaining - tail));
  const checksumAlgorithm = hasAlgorithm ? r.u8() : undefined;
  return {
    kind: 'format-description',
    header,
    createdAt,
    checksumAlgorithm,
    format: {
      binlogVersion,
      serverVersion,
      flavor: /mariadb/i.test(serverVersion) ? 'mariadb' : 'mysql',
      postHeaderLengths,
      checksum: checksumAlgorithm === ChecksumAlgorithm.CRC32,
    },
  };
}

/** Checksums exist from MySQL 5.6.1 and MariaDB 5.3; older FDEs have no algorithm byte. */
function supportsChecksums(version: string): boolean {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!m) return true;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (/mariadb/i.test(version)) return major > 5 || (major === 5 && minor >= 3);
  return major > 5 || (major === 5 && (minor > 6 || (minor === 6 && patch >= 1)));
}

/** The post-header length of an event type in this format, or `fallback` when the FDE does not list it. */
export function postHeaderLength(format: BinlogFormat, type: number, fallback: number): number {
  return format.postHeaderLengths[type - 1] ?? fallback;
}
