/**
 * Binlog event type codes (`Log_event_type` in MySQL, plus MariaDB's 160+
 * range). Codes that neither flavor defines decode as the `unknown` kind.
 */
export const EventType = {
  UNKNOWN: 0,
  START_V3: 1,
  QUERY: 2,
  STOP: 3,
  ROTATE: 4,
  INTVAR: 5,
  LOAD: 6,
  SLAVE: 7,
  CREATE_FILE: 8,
  APPEND_BLOCK: 9,
  EXEC_LOAD: 10,
  DELETE_FILE: 11,
  NEW_LOAD: 12,
  RAND: 13,
  USER_VAR: 14,
  FORMAT_DESCRIPTION: 15,
  XID: 16,
  BEGIN_LOAD_QUERY: 17,
  EXECUTE_LOAD_QUERY: 18,
  TABLE_MAP: 19,
  PRE_GA_WRITE_ROWS: 20,
  PRE_GA_UPDATE_ROWS: 21,
  PRE_GA_DELETE_ROWS: 22,
  WRITE_ROWS_V1: 23,
  UPDATE_ROWS_V1: 24,
  DELETE_ROWS_V1: 25,
  INCIDENT: 26,
  HEARTBEAT: 27,
  IGNORABLE: 28,
  ROWS_QUERY: 29,
  WRITE_ROWS: 30,
  UPDATE_ROWS: 31,
  DELETE_ROWS: 32,
  GTID: 33,
  ANONYMOUS_GTID: 34,
  PREVIOUS_GTIDS: 35,
  TRANSACTION_CONTEXT: 36,
  VIEW_CHANGE: 37,
  XA_PREPARE: 38,
  PARTIAL_UPDATE_ROWS: 39,
  TRANSACTION_PAYLOAD: 40,
  HEARTBEAT_V2: 41,
  GTID_TAGGED: 42,
  // MariaDB
  ANNOTATE_ROWS: 160,
  BINLOG_CHECKPOINT: 161,
  MARIADB_GTID: 162,
  MARIADB_GTID_LIST: 163,
  START_ENCRYPTION: 164,
  QUERY_COMPRESSED: 165,
  WRITE_ROWS_COMPRESSED_V1: 166,
  UPDATE_ROWS_COMPRESSED_V1: 167,
  DELETE_ROWS_COMPRESSED_V1: 168,
  WRITE_ROWS_COMPRESSED: 169,
  UPDATE_ROWS_COMPRESSED: 170,
  DELETE_ROWS_COMPRESSED: 171,
} as const;
export type EventTypeCode = (typeof EventType)[keyof typeof EventType];

const NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(EventType).map(([name, code]) => [code, name]),
);

/** The name of a type code, or `UNKNOWN_<n>` for codes no flavor defines. */
export function eventTypeName(type: number): string {
  return NAMES.get(type) ?? `UNKNOWN_${type}`;
}

export function isKnownEventType(type: number): boolean {
  return type !== 0 && NAMES.has(type);
}

/** Header flags (`LOG_EVENT_*_F`). */
export const EventFlag = {
  BINLOG_IN_USE: 0x0001,
  ARTIFICIAL: 0x0020,
  RELAY_LOG: 0x0040,
  IGNORABLE: 0x0080,
} as const;

/** What a rows event does, and how its body is laid out. */
export interface RowsEventShape {
  readonly op: 'insert' | 'update' | 'delete' | 'partial-update';
  /** v2 events (MySQL 30-32, 39) carry a variable-length extra-data block after the flags. */
  readonly v2: boolean;
  /** MariaDB compressed rows events: the row data is zlib-compressed. */
  readonly compressed: boolean;
}

const ROWS_SHAPES: ReadonlyMap<number, RowsEventShape> = new Map([
  [EventType.WRITE_ROWS_V1, { op: 'insert', v2: false, compressed: false }],
  [EventType.UPDATE_ROWS_V1, { op: 'update', v2: false, compressed: false }],
  [EventType.DELETE_ROWS_V1, { op: 'delete', v2: false, compressed: false }],
  [EventType.WRITE_ROWS, { op: 'insert', v2: true, compressed: false }],
  [EventType.UPDATE_ROWS, { op: 'update', v2: true, compressed: false }],
  [EventType.DELETE_ROWS, { op: 'delete', v2: true, compressed: false }],
  [EventType.PARTIAL_UPDATE_ROWS, { op: 'partial-update', v2: true, compressed: false }],
  [EventType.WRITE_ROWS_COMPRESSED_V1, { op: 'insert', v2: false, compressed: true }],
  [EventType.UPDATE_ROWS_COMPRESSED_V1, { op: 'update', v2: false, compressed: true }],
  [EventType.DELETE_ROWS_COMPRESSED_V1, { op: 'delete', v2: false, compressed: true }],
  [EventType.WRITE_ROWS_COMPRESSED, { op: 'insert', v2: true, compressed: true }],
  [EventType.UPDATE_ROWS_COMPRESSED, { op: 'update', v2: true, compressed: true }],
  [EventType.DELETE_ROWS_COMPRESSED, { op: 'delete', v2: true, compressed: true }],
]);

/** The layout of a rows event type, or undefined when the type is not a rows event. */
export function rowsEventShape(type: number): RowsEventShape | undefined {
  return ROWS_SHAPES.get(type);
}
