/**
 * The data contract of the binlog module, shared by the sources (files, the
 * replication stream), the event decoders, the column-value decoders and the
 * transaction assembler.
 */

/** Which server wrote a binlog; decides GTID syntax and some event layouts. */
export type Flavor = 'mysql' | 'mariadb';

/**
 * One event exactly as stored: the 19-byte common header, the body, and the
 * checksum trailer when the log has one. Both the file source and the
 * replication source yield these; nothing else knows where bytes came from.
 */
export interface RawEvent {
  /** Binlog file name (basename as the server names it, e.g. `mysql-bin.000042`). */
  readonly file: string;
  /** Offset of the event's first byte in that file. */
  readonly position: number;
  /** The whole event: header, body and (when present) the 4-byte CRC32. */
  readonly bytes: Buffer;
}

/** One column of a table as a TABLE_MAP event (plus optional metadata) describes it. */
export interface ColumnDef {
  /** MySQL field type (`enum_field_types`: 1 TINY ... 245 JSON, 246 NEWDECIMAL, 254 STRING...). */
  readonly type: number;
  /** The per-type metadata from the TABLE_MAP (length bytes, precision/scale, fsp, real type...). */
  readonly meta: number;
  readonly nullable: boolean;
  /** From COLUMN_NAME metadata or the live schema; undefined when neither is known (shown as @1, @2...). */
  readonly name?: string;
  /** From SIGNEDNESS metadata or the live schema; undefined when unknown. */
  readonly unsigned?: boolean;
  /** Collation id for character columns (DEFAULT_CHARSET / COLUMN_CHARSET metadata). */
  readonly charset?: number;
  readonly enumValues?: readonly string[];
  readonly setValues?: readonly string[];
  readonly geometryType?: number;
  /** False for MySQL invisible columns (COLUMN_VISIBILITY metadata). */
  readonly visible?: boolean;
}

/** A table as the binlog describes it at one point of the stream. */
export interface TableMap {
  readonly tableId: number;
  readonly database: string;
  readonly table: string;
  readonly columns: readonly ColumnDef[];
  /** Column indexes of the primary key (SIMPLE_PRIMARY_KEY / PRIMARY_KEY_WITH_PREFIX metadata). */
  readonly primaryKey?: readonly number[];
}

/**
 * A decoded column value. Exactness rules: integers beyond ±2^53−1 are bigint;
 * DECIMAL, temporal, ENUM/SET names, text and JSON are strings; binary, BLOB,
 * BIT and GEOMETRY keep their bytes.
 */
export type Value = null | number | bigint | string | Uint8Array;

/**
 * One row image: a value per table column, in column order. A column absent
 * from a partial image (MINIMAL/NOBLOB) is `undefined`, distinct from NULL.
 */
export type RowImage = readonly (Value | undefined)[];

export type RowOperation = 'insert' | 'update' | 'delete';
