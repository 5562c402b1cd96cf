/**
 * QUERY_EVENT (and MariaDB's QUERY_COMPRESSED_EVENT): a statement, with the
 * session context it ran in (`Query_log_event`). Also the shared layout of
 * EXECUTE_LOAD_QUERY_EVENT, whose post-header extends this one.
 */
import type { ByteReader } from '../byte-reader.js';
import { EventType } from '../event-types.js';
import { inflateMariadbBlock } from '../mariadb-compression.js';
import { type BinlogFormat, postHeaderLength } from './format-description.js';
import type { EventHeader } from './header.js';

/** The status variables salvage uses, raw as the server wrote them. */
export interface QueryStatus {
  flags2?: number;
  sqlMode?: bigint;
  catalog?: string;
  autoIncrement?: { readonly increment: number; readonly offset: number };
  /** character_set_client, collation_connection, collation_server ids. */
  charset?: { readonly client: number; readonly connection: number; readonly server: number };
  timeZone?: string;
  lcTimeNames?: number;
  charsetDatabase?: number;
  tableMapForUpdate?: bigint;
  invoker?: { readonly user: string; readonly host: string };
  updatedDatabases?: readonly string[];
  /** Microseconds of the statement start (MySQL Q_MICROSECONDS, MariaDB Q_HRNOW). */
  microseconds?: number;
  explicitDefaultsForTimestamp?: boolean;
  ddlXid?: bigint;
  defaultCollationForUtf8mb4?: number;
  sqlRequirePrimaryKey?: number;
  defaultTableEncryption?: number;
  /** MariaDB Q_XID: the XID of a DDL. */
  xid?: bigint;
  /** MariaDB Q_GTID_FLAGS3. */
  gtidFlags3?: number;
  /** A status variable code this reader does not know stopped parsing here (the rest is skipped by length). */
  unknownCode?: number;
}

export interface QueryEvent {
  readonly kind: 'query';
  readonly header: EventHeader;
  readonly threadId: number;
  /** Seconds the statement took on the source. */
  readonly execTime: number;
  readonly errorCode: number;
  readonly schema: string;
  readonly query: string;
  readonly status: QueryStatus;
}

/** Reads the part common to QUERY and EXECUTE_LOAD_QUERY; `extraPostHeader` reads the latter's fields. */
export function decodeQueryLike(
  r: ByteReader,
  header: EventHeader,
  format: BinlogFormat,
  extraPostHeader?: (r: ByteReader) => void,
): QueryEvent {
  const threadId = r.u32();
  const execTime = r.u32();
  const schemaLength = r.u8();
  const errorCode = r.u16();
  // Pre-5.0 servers have no status variables (post-header 11 bytes).
  const hasStatus = postHeaderLength(format, EventType.QUERY, 13) >= 13;
  const statusLength = hasStatus ? r.u16() : 0;
  extraPostHeader?.(r);
  const status = decodeQueryStatus(r.sub(statusLength));
  const schema = r.string(schemaLength);
  r.skip(1);
  let query: string;
  if (header.type === EventType.QUERY_COMPRESSED) {
    query = inflateMariadbBlock(r).toString('utf8');
  } else {
    query = r.string(r.remaining);
  }
  return { kind: 'query', header, threadId, execTime, errorCode, schema, query, status };
}

export function decodeQuery(r: ByteReader, header: EventHeader, format: BinlogFormat): QueryEvent {
  return decodeQueryLike(r, header, format);
}

function decodeQueryStatus(r: ByteReader): QueryStatus {
  const s: QueryStatus = {};
  while (r.remaining > 0) {
    const code = r.u8();
    switch (code) {
      case 0:
        s.flags2 = r.u32();
        break;
      case 1:
        s.sqlMode = r.u64();
        break;
      case 2:
        s.catalog = r.string8();
        r.skip(1);
        break;
      case 3:
        s.autoIncrement = { increment: r.u16(), offset: r.u16() };
        break;
      case 4:
        s.charset = { client: r.u16(), connection: r.u16(), server: r.u16() };
        break;
      case 5:
        s.timeZone = r.string8();
        break;
      case 6:
        s.catalog = r.string8();
        break;
      case 7:
        s.lcTimeNames = r.u16();
        break;
      case 8:
        s.charsetDatabase = r.u16();
        break;
      case 9:
        s.tableMapForUpdate = r.u64();
        break;
      case 10:
        r.skip(4); // Q_MASTER_DATA_WRITTEN: only in relay logs of 5.0
        break;
      case 11:
        s.invoker = { user: r.string8(), host: r.string8() };
        break;
      case 12: {
        const count = r.u8();
        const names: string[] = [];
        // 254 = OVER_MAX_DBS_IN_EVENT_MTS: too many to list, none follow.
        if (count !== 254) for (let i = 0; i < count; i++) names.push(r.cString());
        s.updatedDatabases = names;
        break;
      }
      case 13:
      case 128:
        s.microseconds = r.u24();
        break;
      case 16:
        s.explicitDefaultsForTimestamp = r.u8() !== 0;
        break;
      case 17:
        s.ddlXid = r.u64();
        break;
      case 18:
        s.defaultCollationForUtf8mb4 = r.u16();
        break;
      case 19:
        s.sqlRequirePrimaryKey = r.u8();
        break;
      case 20:
        s.defaultTableEncryption = r.u8();
        break;
      case 129:
        s.xid = r.u64();
        break;
      case 130:
        s.gtidFlags3 = r.u8();
        break;
      default:
        // Status variables have no length prefix: an unknown one ends what can be read.
        s.unknownCode = code;
        r.skip(r.remaining);
    }
  }
  return s;
}
