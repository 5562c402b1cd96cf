/**
 * information_schema DATA_TYPE names (lower case) grouped by family, the same
 * on MySQL and MariaDB. One list each, so the binlog decoder, backups, undo and
 * verify agree on what is a geometry or an integer.
 */

/** Spatial types: stored as a 4-byte SRID followed by WKB. */
export const GEOMETRY_DATA_TYPES: ReadonlySet<string> = new Set([
  'geometry',
  'point',
  'linestring',
  'polygon',
  'multipoint',
  'multilinestring',
  'multipolygon',
  'geometrycollection',
  'geomcollection',
]);

/** Integer types: exact, and splittable into ranges arithmetically. */
export const INTEGER_DATA_TYPES: ReadonlySet<string> = new Set([
  'tinyint',
  'smallint',
  'mediumint',
  'int',
  'integer',
  'bigint',
]);
