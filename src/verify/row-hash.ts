/**
 * The per-row hash computed on the server: CRC32 over CONCAT_WS of every
 * column rendered so that equal data gives equal text on MySQL and MariaDB.
 *
 * - strings and binary values as their bytes (CAST AS BINARY), each preceded
 *   by its byte length, so no separator inside a value can shift the columns;
 * - FLOAT/DOUBLE, when the two servers differ in flavor or version, as an
 *   exact odd mantissa and a power of two, not as the server's decimal text
 *   (MySQL 8 and MariaDB print doubles differently); between servers of one
 *   version as that text, which round-trips and costs far less;
 * - BIT as a number; temporal values as text in UTC (the session time zone
 *   is +00:00 on every checksum connection, see pool.ts);
 * - a trailing bitmap of which columns are NULL, because CONCAT_WS skips
 *   NULLs and so would not tell NULL from '' or from a missing column.
 * Generated columns are left out: they follow from the others.
 */
import { type ColumnShape, quoteIdentifier } from '../mysql/index.js';

const NUMERIC_AS_TEXT = new Set([
  'tinyint',
  'smallint',
  'mediumint',
  'int',
  'integer',
  'bigint',
  'decimal',
  'numeric',
  'date',
  'time',
  'datetime',
  'timestamp',
  'year',
]);

const FLOATING = new Set(['float', 'double', 'real', 'double precision']);

/** The columns a row hash covers: stored ones, in the given order. */
export function hashedColumns(columns: readonly ColumnShape[]): ColumnShape[] {
  return columns.filter((c) => !c.generated);
}

/**
 * The SQL expression of one row's hash (an unsigned 32-bit integer).
 * `portableFloats` renders doubles exactly whatever the server's formatting.
 */
export function rowHashSql(columns: readonly ColumnShape[], portableFloats = true): string {
  const items: string[] = [];
  for (const column of columns) items.push(...renderColumn(column, portableFloats));
  const nullable = columns.filter((c) => c.nullable);
  if (nullable.length > 0) {
    items.push(`CONCAT(${nullable.map((c) => `ISNULL(${quoteIdentifier(c.name)})`).join(', ')})`);
  }
  if (items.length === 0) return '0';
  return `CRC32(CONCAT_WS('#', ${items.join(', ')}))`;
}

function renderColumn(column: ColumnShape, portableFloats: boolean): string[] {
  const name = quoteIdentifier(column.name);
  if (NUMERIC_AS_TEXT.has(column.dataType)) return [name];
  if (FLOATING.has(column.dataType)) return [portableFloats ? exactDouble(name) : name];
  if (column.dataType === 'bit') return [`(${name} + 0)`];
  return [`LENGTH(${name})`, `CAST(${name} AS BINARY)`];
}

/**
 * A double as sign, odd integer mantissa and binary exponent: exact, and the
 * same text whatever the server's float formatting. The value is scaled by a
 * power of two (exact in binary floating point) into an integer, in two steps
 * so that scaling a subnormal does not overflow; the trailing zero bits are
 * then shifted out so an off-by-one LOG2 near a power of two cannot change
 * the result. FLOAT columns widen to double exactly.
 */
function exactDouble(x: string): string {
  const exponent = `FLOOR(LOG2(ABS(${x})))`;
  const shift = `(54 - ${exponent})`;
  const half = `FLOOR(${shift} / 2)`;
  const scaled = `ABS(CAST(${x} * POW(2, ${half}) * POW(2, ${shift} - ${half}) AS SIGNED))`;
  const trailingZeros = `BIT_COUNT((${scaled} & -${scaled}) - 1)`;
  return `IF(${x} = 0, '0', CONCAT(IF(${x} < 0, '-', ''), ${scaled} >> ${trailingZeros}, 'p', ${exponent} - 54 + ${trailingZeros}))`;
}
