/**
 * One decoded binlog event: the union of every event kind, and the dispatch
 * table from type code to decoder.
 */

import { SalvageError } from '../../errors.js';
import { ByteReader } from '../byte-reader.js';
import { EventType, eventTypeName, rowsEventShape } from '../event-types.js';
import type { RawEvent } from '../types.js';
import {
  type BinlogFormat,
  decodeFormatDescription,
  type FormatDescriptionEvent,
} from './format-description.js';
import { decodeGtid, type GtidEvent } from './gtid.js';
import { decodeEventHeader, EVENT_HEADER_LENGTH, type EventHeader } from './header.js';
import { decodeHeartbeat, type HeartbeatEvent } from './heartbeat.js';
import { decodeIncident, type IncidentEvent } from './incident.js';
import { decodeIntvar, type IntvarEvent } from './intvar.js';
import {
  type BeginLoadQueryEvent,
  decodeBeginLoadQuery,
  decodeExecuteLoadQuery,
  type ExecuteLoadQueryEvent,
} from './load-query.js';
import {
  type BinlogCheckpointEvent,
  decodeBinlogCheckpoint,
  decodeMariadbGtid,
  decodeMariadbGtidList,
  type MariadbGtidEvent,
  type MariadbGtidListEvent,
} from './mariadb-gtid.js';
import { keepOther, keepUnknown, type OtherEvent, type UnknownEvent } from './other.js';
import { decodePreviousGtids, type PreviousGtidsEvent } from './previous-gtids.js';
import { decodeQuery, type QueryEvent } from './query.js';
import { decodeRand, type RandEvent } from './rand.js';
import { decodeRotate, type RotateEvent } from './rotate.js';
import { decodeRowsEvent, type RowsEvent } from './rows-event.js';
import { decodeRowsQuery, type RowsQueryEvent } from './rows-query.js';
import { decodeStop, type StopEvent } from './stop.js';
import { decodeTableMap, type TableMapEvent } from './table-map.js';
import { decodeTransactionPayload, type TransactionPayloadEvent } from './transaction-payload.js';
import { decodeUserVar, type UserVarEvent } from './user-var.js';
import { decodeXaPrepare, type XaPrepareEvent } from './xa-prepare.js';
import { decodeXid, type XidEvent } from './xid.js';

export type BinlogEvent =
  | FormatDescriptionEvent
  | RotateEvent
  | StopEvent
  | QueryEvent
  | XidEvent
  | IntvarEvent
  | RandEvent
  | UserVarEvent
  | TableMapEvent
  | RowsEvent
  | RowsQueryEvent
  | GtidEvent
  | PreviousGtidsEvent
  | MariadbGtidEvent
  | MariadbGtidListEvent
  | BinlogCheckpointEvent
  | TransactionPayloadEvent
  | HeartbeatEvent
  | IncidentEvent
  | BeginLoadQueryEvent
  | ExecuteLoadQueryEvent
  | XaPrepareEvent
  | OtherEvent
  | UnknownEvent;

export type BinlogEventKind = BinlogEvent['kind'];

type Decoder = (r: ByteReader, header: EventHeader, format: BinlogFormat) => BinlogEvent;

const DECODERS = new Map<number, Decoder>([
  [EventType.QUERY, decodeQuery],
  [EventType.QUERY_COMPRESSED, decodeQuery],
  [EventType.STOP, (_r, h) => decodeStop(h)],
  [EventType.ROTATE, decodeRotate],
  [EventType.INTVAR, decodeIntvar],
  [EventType.RAND, decodeRand],
  [EventType.USER_VAR, decodeUserVar],
  [EventType.XID, decodeXid],
  [EventType.BEGIN_LOAD_QUERY, decodeBeginLoadQuery],
  [EventType.EXECUTE_LOAD_QUERY, decodeExecuteLoadQuery],
  [EventType.TABLE_MAP, decodeTableMap],
  [EventType.INCIDENT, decodeIncident],
  [EventType.HEARTBEAT, decodeHeartbeat],
  [EventType.HEARTBEAT_V2, decodeHeartbeat],
  [EventType.ROWS_QUERY, decodeRowsQuery],
  [EventType.ANNOTATE_ROWS, decodeRowsQuery],
  [EventType.GTID, decodeGtid],
  [EventType.ANONYMOUS_GTID, decodeGtid],
  [EventType.GTID_TAGGED, decodeGtid],
  [EventType.PREVIOUS_GTIDS, decodePreviousGtids],
  [EventType.XA_PREPARE, decodeXaPrepare],
  [EventType.TRANSACTION_PAYLOAD, decodeTransactionPayload],
  [EventType.MARIADB_GTID, decodeMariadbGtid],
  [EventType.MARIADB_GTID_LIST, decodeMariadbGtidList],
  [EventType.BINLOG_CHECKPOINT, decodeBinlogCheckpoint],
]);

/** Where an event sits, for decoders' error messages. */
export type EventLocation = {
  readonly file: string;
  readonly position: number;
  readonly payloadOffset?: number;
};

/**
 * Decodes one event. `bytes[start..end)` is the whole event (header, body,
 * and the CRC32 trailer when `checksum` says there is one). The FDE is
 * decoded with or without `format`: it defines the format.
 */
export function decodeEvent(
  bytes: Buffer,
  start: number,
  end: number,
  format: BinlogFormat,
  checksum: boolean,
  where: EventLocation,
): BinlogEvent {
  const r = new ByteReader(bytes, start, end, where);
  const header = decodeEventHeader(r, where.file, where.position, where.payloadOffset);
  if (header.type === EventType.FORMAT_DESCRIPTION) return decodeFormatDescription(r, header);
  if (checksum) {
    if (r.remaining < 4) throw r.corrupt(`${eventTypeName(header.type)} event too short for its checksum`);
    r.end -= 4;
  }
  if (header.type === EventType.START_ENCRYPTION) {
    throw new SalvageError(
      'BINLOG_UNSUPPORTED',
      'this binlog is encrypted (START_ENCRYPTION event): its events cannot be read from the file',
      {
        hint: 'Read it from the server with --source (the server decrypts it), or decrypt a copy with the server first.',
        context: where,
      },
    );
  }
  const decoder = DECODERS.get(header.type);
  if (decoder) return decoder(r, header, format);
  if (rowsEventShape(header.type)) return decodeRowsEvent(r, header, format);
  if (header.type !== 0 && eventTypeName(header.type).startsWith('UNKNOWN_') === false)
    return keepOther(r, header);
  return keepUnknown(r, header);
}

export type { EventHeader, RawEvent };
export { EVENT_HEADER_LENGTH };
