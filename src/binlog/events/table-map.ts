/**
 * TABLE_MAP_EVENT: binds a table id to a database, a table and its column
 * types, metadata and nullability, plus (MySQL 8 / MariaDB 10.5 with
 * binlog_row_metadata) the optional metadata: signedness, charsets, column
 * names, ENUM/SET values, geometry types, primary key, visibility, vector
 * dimensions (`Table_map_log_event`, `Optional_metadata_field_type`).
 */
import type { ByteReader } from '../byte-reader.js';
import { type ColumnDef, type ColumnExtras, ColumnType, type TableMapDetails } from '../types.js';
import { MariadbCompressedType } from '../values/compressed-column.js';
import { type BinlogFormat, postHeaderLength } from './format-description.js';
import type { EventHeader } from './header.js';

export interface TableMapEvent {
  readonly kind: 'table-map';
  readonly header: EventHeader;
  readonly table: TableMapDetails;
}

/** Optional metadata field types (`Table_map_log_event::Optional_metadata_field_type`). */
export const OptionalMetadataField = {
  SIGNEDNESS: 1,
  DEFAULT_CHARSET: 2,
  COLUMN_CHARSET: 3,
  COLUMN_NAME: 4,
  SET_STR_VALUE: 5,
  ENUM_STR_VALUE: 6,
  GEOMETRY_TYPE: 7,
  SIMPLE_PRIMARY_KEY: 8,
  PRIMARY_KEY_WITH_PREFIX: 9,
  ENUM_AND_SET_DEFAULT_CHARSET: 10,
  ENUM_AND_SET_COLUMN_CHARSET: 11,
  COLUMN_VISIBILITY: 12,
  VECTOR_DIMENSIONALITY: 13,
} as const;

/** Table ids are 6 bytes, or 4 when the FDE says the post-header is 6 bytes long (pre-5.1 servers). */
export function readTableId(r: ByteReader, format: BinlogFormat, type: number): number {
  return postHeaderLength(format, type, 8) === 6 ? r.u32() : r.uintLE(6);
}

interface MutableColumn {
  type: number;
  meta: number;
  nullable: boolean;
  name?: string;
  unsigned?: boolean;
  charset?: number;
  enumValues?: string[];
  setValues?: string[];
  geometryType?: number;
  visible?: boolean;
}

export function decodeTableMap(r: ByteReader, header: EventHeader, format: BinlogFormat): TableMapEvent {
  const tableId = readTableId(r, format, header.type);
  const flags = r.u16();
  const database = r.string8();
  r.skip(1);
  const table = r.string8();
  r.skip(1);
  const count = r.packedInt();
  const types = r.bytes(count);
  const metaReader = r.sub(r.packedInt());
  const columns: MutableColumn[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const type = types[i] as number;
    columns[i] = { type, meta: readColumnMeta(metaReader, type), nullable: false };
  }
  const nulls = r.bitmap(count);
  for (let i = 0; i < count; i++) (columns[i] as MutableColumn).nullable = nulls.has(i);

  const details = decodeOptionalMetadata(r, columns);
  return {
    kind: 'table-map',
    header,
    table: {
      tableId,
      database,
      table,
      flags,
      columns: columns as ColumnDef[],
      ...details,
    },
  };
}

/** MariaDB's compressed columns (`COMPRESSED` attribute) carry BLOB and VARCHAR metadata. */
const MARIADB_BLOB_COMPRESSED = MariadbCompressedType.BLOB;
const MARIADB_VARCHAR_COMPRESSED = MariadbCompressedType.VARCHAR;

function readColumnMeta(r: ByteReader, type: number): number {
  switch (type) {
    case ColumnType.FLOAT:
    case ColumnType.DOUBLE:
    case ColumnType.TINY_BLOB:
    case ColumnType.BLOB:
    case ColumnType.MEDIUM_BLOB:
    case ColumnType.LONG_BLOB:
    case ColumnType.GEOMETRY:
    case ColumnType.JSON:
    case ColumnType.VECTOR:
    case ColumnType.TIME2:
    case ColumnType.DATETIME2:
    case ColumnType.TIMESTAMP2:
      return r.u8();
    case ColumnType.VARCHAR:
    case MARIADB_VARCHAR_COMPRESSED:
      return r.u16();
    case MARIADB_BLOB_COMPRESSED:
      return r.u8();
    case ColumnType.BIT: {
      const bits = r.u8();
      return (r.u8() << 8) | bits;
    }
    case ColumnType.NEWDECIMAL:
    case ColumnType.STRING:
    case ColumnType.ENUM:
    case ColumnType.SET:
      return r.uintBE(2);
    case ColumnType.TYPED_ARRAY:
      // Only in MySQL's internal replication of multi-valued indexes; the element type's metadata follows.
      throw r.corrupt('TABLE_MAP has a TYPED_ARRAY column, which binlogs never contain');
    default:
      return 0;
  }
}

/** The type a column really has: STRING columns carry ENUM/SET in their metadata's high byte. */
export function realColumnType(column: { readonly type: number; readonly meta: number }): number {
  if (column.type === ColumnType.STRING) {
    const high = column.meta >>> 8;
    if (high !== 0) {
      const real = high | 0x30;
      if (real === ColumnType.ENUM || real === ColumnType.SET) return real;
    }
    return ColumnType.STRING;
  }
  if (column.type === ColumnType.DATE) return ColumnType.NEWDATE;
  return column.type;
}

const NUMERIC = new Set<number>([
  ColumnType.TINY,
  ColumnType.SHORT,
  ColumnType.INT24,
  ColumnType.LONG,
  ColumnType.LONGLONG,
  ColumnType.DECIMAL,
  ColumnType.NEWDECIMAL,
  ColumnType.FLOAT,
  ColumnType.DOUBLE,
  ColumnType.YEAR,
]);
/**
 * Columns the charset metadata lists (`is_character_type`): GEOMETRY and
 * VECTOR are BLOBs underneath (binary collation 63; vector.binlog's
 * DEFAULT_CHARSET exceptions index its VECTOR columns), and MariaDB's
 * COMPRESSED columns keep their text charsets.
 */
const CHARACTER = new Set<number>([
  ColumnType.STRING,
  ColumnType.VAR_STRING,
  ColumnType.VARCHAR,
  ColumnType.BLOB,
  ColumnType.GEOMETRY,
  ColumnType.VECTOR,
  MARIADB_BLOB_COMPRESSED,
  MARIADB_VARCHAR_COMPRESSED,
]);

type Details = Pick<
  TableMapDetails,
  'primaryKey' | 'primaryKeyPrefixes' | 'columnExtras' | 'optionalMetadata'
>;

function decodeOptionalMetadata(r: ByteReader, columns: MutableColumn[]): Details {
  const seen: number[] = [];
  if (r.remaining === 0) return { optionalMetadata: seen };
  const real = columns.map(realColumnType);
  const indexesOf = (pick: (type: number) => boolean): number[] => {
    const out: number[] = [];
    for (let i = 0; i < real.length; i++) if (pick(real[i] as number)) out.push(i);
    return out;
  };
  const character = indexesOf((t) => CHARACTER.has(t));
  const enumOrSet = indexesOf((t) => t === ColumnType.ENUM || t === ColumnType.SET);
  let primaryKey: number[] | undefined;
  let primaryKeyPrefixes: number[] | undefined;
  let columnExtras: ColumnExtras[] | undefined;

  while (r.remaining > 0) {
    const field = r.u8();
    const v = r.sub(r.packedInt());
    seen.push(field);
    switch (field) {
      case OptionalMetadataField.SIGNEDNESS: {
        // One bit per numeric column, most significant bit first.
        const numeric = indexesOf((t) => NUMERIC.has(t));
        const bytes = v.bytes(v.remaining);
        numeric.forEach((col, i) => {
          const byte = bytes[i >>> 3];
          if (byte === undefined)
            throw v.corrupt('SIGNEDNESS metadata shorter than the numeric column count');
          (columns[col] as MutableColumn).unsigned = ((byte >>> (7 - (i & 7))) & 1) === 1;
        });
        break;
      }
      case OptionalMetadataField.DEFAULT_CHARSET:
        assignDefaultCharset(v, columns, character);
        break;
      case OptionalMetadataField.ENUM_AND_SET_DEFAULT_CHARSET:
        assignDefaultCharset(v, columns, enumOrSet);
        break;
      case OptionalMetadataField.COLUMN_CHARSET:
        assignColumnCharsets(v, columns, character);
        break;
      case OptionalMetadataField.ENUM_AND_SET_COLUMN_CHARSET:
        assignColumnCharsets(v, columns, enumOrSet);
        break;
      case OptionalMetadataField.COLUMN_NAME:
        for (const column of columns) column.name = v.packedString();
        break;
      case OptionalMetadataField.SET_STR_VALUE:
        for (const col of indexesOf((t) => t === ColumnType.SET)) {
          (columns[col] as MutableColumn).setValues = readStringList(v);
        }
        break;
      case OptionalMetadataField.ENUM_STR_VALUE:
        for (const col of indexesOf((t) => t === ColumnType.ENUM)) {
          (columns[col] as MutableColumn).enumValues = readStringList(v);
        }
        break;
      case OptionalMetadataField.GEOMETRY_TYPE:
        for (const col of indexesOf((t) => t === ColumnType.GEOMETRY)) {
          (columns[col] as MutableColumn).geometryType = v.packedInt();
        }
        break;
      case OptionalMetadataField.SIMPLE_PRIMARY_KEY:
        primaryKey = [];
        while (v.remaining > 0) primaryKey.push(checkColumn(v, v.packedInt(), columns.length));
        break;
      case OptionalMetadataField.PRIMARY_KEY_WITH_PREFIX:
        primaryKey = [];
        primaryKeyPrefixes = [];
        while (v.remaining > 0) {
          primaryKey.push(checkColumn(v, v.packedInt(), columns.length));
          primaryKeyPrefixes.push(v.packedInt());
        }
        break;
      case OptionalMetadataField.COLUMN_VISIBILITY: {
        const bytes = v.bytes(v.remaining);
        columns.forEach((column, i) => {
          const byte = bytes[i >>> 3];
          if (byte === undefined) throw v.corrupt('COLUMN_VISIBILITY metadata shorter than the column count');
          column.visible = ((byte >>> (7 - (i & 7))) & 1) === 1;
        });
        break;
      }
      case OptionalMetadataField.VECTOR_DIMENSIONALITY: {
        columnExtras = columns.map(() => ({}));
        for (const col of indexesOf((t) => t === ColumnType.VECTOR)) {
          columnExtras[col] = { vectorDimensions: v.packedInt() };
        }
        break;
      }
      default:
        // Fields newer than this reader describe columns; the row images do not depend on them.
        break;
    }
  }
  return { primaryKey, primaryKeyPrefixes, columnExtras, optionalMetadata: seen };
}

/** DEFAULT_CHARSET: the most common collation, then (index among these columns, collation) exceptions. */
function assignDefaultCharset(v: ByteReader, columns: MutableColumn[], subset: number[]): void {
  const fallback = v.packedInt();
  for (const col of subset) (columns[col] as MutableColumn).charset = fallback;
  while (v.remaining > 0) {
    const nth = v.packedInt();
    const collation = v.packedInt();
    const col = subset[nth];
    if (col === undefined) throw v.corrupt(`charset exception for column #${nth}, which does not exist`);
    (columns[col] as MutableColumn).charset = collation;
  }
}

function assignColumnCharsets(v: ByteReader, columns: MutableColumn[], subset: number[]): void {
  for (const col of subset) (columns[col] as MutableColumn).charset = v.packedInt();
}

function readStringList(v: ByteReader): string[] {
  const n = v.packedInt();
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(v.packedString());
  return out;
}

function checkColumn(v: ByteReader, index: number, count: number): number {
  if (index >= count) throw v.corrupt(`primary key names column ${index} of a ${count}-column table`);
  return index;
}
