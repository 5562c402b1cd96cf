/**
 * Column facts a binlog written with binlog_row_metadata NO_LOG or MINIMAL
 * lacks (names, signedness, charsets, ENUM/SET members), taken from the live
 * server's schema. What the TABLE_MAP says always wins; the live schema only
 * fills gaps, and only when it still has the same columns of the same types
 * — a table altered since the binlog was written is refused, because its
 * facts would be applied to the wrong values.
 */
import { SalvageError } from '../../errors.js';
import { GEOMETRY_DATA_TYPES, type TableShape } from '../../mysql/index.js';
import { type ColumnDef, ColumnType, type TableMapDetails } from '../types.js';
import { BINARY_COLLATION, collationOfCharset } from './charset.js';
import { MariadbCompressedType } from './compressed-column.js';

const TEXT_TYPES = ['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'json', 'enum', 'set'];
const BINARY_TYPES = ['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob'];

/** DATA_TYPEs each binlog column type can stand for. */
const DATA_TYPES: ReadonlyMap<number, readonly string[]> = new Map<number, readonly string[]>([
  [ColumnType.TINY, ['tinyint', 'boolean']],
  [ColumnType.SHORT, ['smallint']],
  [ColumnType.INT24, ['mediumint']],
  [ColumnType.LONG, ['int', 'integer']],
  [ColumnType.LONGLONG, ['bigint']],
  [ColumnType.FLOAT, ['float']],
  [ColumnType.DOUBLE, ['double', 'real']],
  [ColumnType.NEWDECIMAL, ['decimal', 'numeric']],
  [ColumnType.YEAR, ['year']],
  [ColumnType.DATE, ['date']],
  [ColumnType.NEWDATE, ['date']],
  [ColumnType.TIME, ['time']],
  [ColumnType.TIME2, ['time']],
  [ColumnType.DATETIME, ['datetime']],
  [ColumnType.DATETIME2, ['datetime']],
  [ColumnType.TIMESTAMP, ['timestamp']],
  [ColumnType.TIMESTAMP2, ['timestamp']],
  [ColumnType.BIT, ['bit']],
  [ColumnType.VARCHAR, ['varchar', 'varbinary']],
  [ColumnType.VAR_STRING, ['varchar', 'varbinary']],
  // MariaDB's UUID and INET4/INET6 are fixed-length binary strings in the binlog.
  [ColumnType.STRING, ['char', 'binary', 'enum', 'set', 'uuid', 'inet4', 'inet6']],
  [ColumnType.ENUM, ['enum']],
  [ColumnType.SET, ['set']],
  [ColumnType.BLOB, [...BINARY_TYPES.slice(2), ...TEXT_TYPES.slice(2, 7)]],
  [ColumnType.GEOMETRY, [...GEOMETRY_DATA_TYPES]],
  [ColumnType.JSON, ['json']],
  [ColumnType.VECTOR, ['vector']],
  [MariadbCompressedType.VARCHAR, ['varchar', 'varbinary']],
  [MariadbCompressedType.BLOB, [...BINARY_TYPES.slice(2), ...TEXT_TYPES.slice(2, 6)]],
]);

/**
 * The TABLE_MAP with the gaps filled from `shape` (information_schema, see
 * `describeTable`). Throws BAD_INPUT when the live table no longer matches.
 */
export function withLiveSchema(table: TableMapDetails, shape: TableShape): TableMapDetails {
  const name = `${table.database}.${table.table}`;
  const altered = (why: string): SalvageError =>
    new SalvageError(
      'BAD_INPUT',
      `the live table ${name} ${why} than when the binlog was written: it was altered since`,
      {
        hint: 'Column facts cannot be taken from the server; read the binlog without --source (values stay raw) or from a server with the old schema.',
        context: { table: name },
      },
    );
  if (shape.columns.length !== table.columns.length) {
    throw altered(`has ${shape.columns.length} columns, ${table.columns.length}`);
  }
  const columns = table.columns.map((column, i): ColumnDef => {
    const live = shape.columns[i];
    if (live === undefined || !(DATA_TYPES.get(column.type) ?? []).includes(live.dataType)) {
      throw altered(`has column ${i + 1} as ${live?.columnType ?? 'nothing'}, a different type`);
    }
    const members = /^(enum|set)\(/i.test(live.columnType) ? trustedMembers(live.columnType) : undefined;
    return {
      ...column,
      name: column.name ?? live.name,
      unsigned: column.unsigned ?? (isNumeric(column.type) ? live.unsigned : undefined),
      charset: column.charset ?? liveCollation(live.dataType, live.charset),
      enumValues: column.enumValues ?? (live.dataType === 'enum' ? members : undefined),
      setValues: column.setValues ?? (live.dataType === 'set' ? members : undefined),
    };
  });
  return { ...table, columns };
}

function isNumeric(type: number): boolean {
  return (
    type === ColumnType.TINY ||
    type === ColumnType.SHORT ||
    type === ColumnType.INT24 ||
    type === ColumnType.LONG ||
    type === ColumnType.LONGLONG ||
    type === ColumnType.FLOAT ||
    type === ColumnType.DOUBLE ||
    type === ColumnType.NEWDECIMAL
  );
}

/** A collation id of the column's character set (any id of the set decodes the same), binary for byte types. */
function liveCollation(dataType: string, charset: string | undefined): number | undefined {
  if (BINARY_TYPES.includes(dataType)) return BINARY_COLLATION;
  if (!TEXT_TYPES.includes(dataType) || charset === undefined) return undefined;
  return collationOfCharset(charset);
}

/**
 * Members from COLUMN_TYPE, unless one holds a '?': information_schema is
 * utf8mb3, so a member with a 4-byte character (an emoji) arrives as '?' and
 * the names would be wrong. The values then stay numbers.
 */
function trustedMembers(columnType: string): string[] | undefined {
  const members = parseMembers(columnType);
  return members.some((m) => m.includes('?')) ? undefined : members;
}

/** The members of `enum('a','b''c')` / `set(...)` as COLUMN_TYPE writes them (quotes doubled). */
export function parseMembers(columnType: string): string[] {
  const members: string[] = [];
  const body = columnType.slice(columnType.indexOf('(') + 1, columnType.lastIndexOf(')'));
  let i = 0;
  while (i < body.length) {
    if (body[i] !== "'") {
      i++;
      continue;
    }
    let member = '';
    i++;
    while (i < body.length) {
      if (body[i] === "'" && body[i + 1] === "'") {
        member += "'";
        i += 2;
      } else if (body[i] === "'") {
        i++;
        break;
      } else {
        member += body[i];
        i++;
      }
    }
    members.push(member);
  }
  return members;
}
