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
 * DECIMAL, temporal, ENUM/SET names, text and JSON are strings; YEAR and
 * ENUM/SET without names in the TABLE_MAP are numbers; binary, BLOB, BIT,
 * GEOMETRY, VECTOR and text the reader cannot decode exactly keep their bytes.
 * A JSON partial update that could not be applied is a `JsonDiffValue`.
 */
export type Value = null | number | bigint | string | Uint8Array | JsonDiffValue;

/**
 * The after-image of a JSON column in a MySQL PARTIAL_UPDATE_ROWS event whose
 * before image lacks that column (binlog_row_image MINIMAL): only the changes
 * are known, not the new document. Recovery paths must refuse it.
 */
export interface JsonDiffValue {
  readonly kind: 'json-diff';
  readonly diffs: readonly JsonDiff[];
}

/** One logical JSON change (`Json_diff`): an operation at a MySQL JSON path. */
export interface JsonDiff {
  readonly operation: 'replace' | 'insert' | 'remove';
  /** A MySQL JSON path, e.g. `$.age` or `$.tags[2]`. */
  readonly path: string;
  /** The new value as JSON text; absent for `remove`. */
  readonly value?: string;
}

/**
 * One row image: a value per table column, in column order. A column absent
 * from a partial image (MINIMAL/NOBLOB) is `undefined`, distinct from NULL.
 */
export type RowImage = readonly (Value | undefined)[];

export type RowOperation = 'insert' | 'update' | 'delete';

/**
 * MySQL column type codes (`enum_field_types`) as TABLE_MAP events write
 * them. STRING (254) also stands for ENUM and SET: the real type is the high
 * byte of its `ColumnDef.meta`.
 *
 * `ColumnDef.meta` packs the TABLE_MAP per-column metadata the way the server
 * reads it (`table_def`): 1-byte kinds (FLOAT/DOUBLE size, BLOB/TEXT/GEOMETRY/
 * JSON/VECTOR length bytes, TIME2/DATETIME2/TIMESTAMP2 fsp) as that byte;
 * VARCHAR/VAR_STRING as the little-endian u16 max byte length; BIT as
 * `bytes << 8 | bits`; NEWDECIMAL as `precision << 8 | scale`; STRING/ENUM/SET
 * as `byte0 << 8 | byte1` (real type and length, with the CHAR > 255 bytes
 * packing in the real-type byte); 0 for types without metadata.
 */
export const ColumnType = {
  DECIMAL: 0,
  TINY: 1,
  SHORT: 2,
  LONG: 3,
  FLOAT: 4,
  DOUBLE: 5,
  NULL: 6,
  TIMESTAMP: 7,
  LONGLONG: 8,
  INT24: 9,
  DATE: 10,
  TIME: 11,
  DATETIME: 12,
  YEAR: 13,
  NEWDATE: 14,
  VARCHAR: 15,
  BIT: 16,
  TIMESTAMP2: 17,
  DATETIME2: 18,
  TIME2: 19,
  TYPED_ARRAY: 20,
  VECTOR: 242,
  JSON: 245,
  NEWDECIMAL: 246,
  ENUM: 247,
  SET: 248,
  TINY_BLOB: 249,
  MEDIUM_BLOB: 250,
  LONG_BLOB: 251,
  BLOB: 252,
  VAR_STRING: 253,
  STRING: 254,
  GEOMETRY: 255,
} as const;

/** Extra column facts from TABLE_MAP optional metadata that older readers may ignore. */
export interface ColumnExtras {
  /** VECTOR dimensionality (MySQL 9 optional metadata field 13). */
  readonly vectorDimensions?: number;
}

/**
 * Everything a TABLE_MAP says beyond `TableMap`: kept apart so `TableMap`
 * stays the minimal contract the value decoders need.
 */
export interface TableMapDetails extends TableMap {
  /** TABLE_MAP flags (`TM_BIT_*`). */
  readonly flags: number;
  /** Per primary-key column, the prefix length in characters (0 = whole column). */
  readonly primaryKeyPrefixes?: readonly number[];
  readonly columnExtras?: readonly ColumnExtras[];
  /** Which optional metadata fields the event carried (by field type code). */
  readonly optionalMetadata: readonly number[];
}
