/**
 * Foreign-key orphans present now: child rows whose parent row is missing,
 * found by query for every declared foreign key touching the given tables
 * (rows written with FOREIGN_KEY_CHECKS=0, or parents the bad change deleted).
 */
import { type Connection, queryRows, quoteIdentifier, quoteTableName } from '../mysql/index.js';

export interface ForeignKeyOrphans {
  readonly constraint: string;
  readonly child: string;
  readonly parent: string;
  readonly columns: readonly string[];
  readonly orphans: number;
}

/** Counts orphans of every FK whose child or parent is one of `tables` (`db.table`). */
export async function countOrphans(
  conn: Connection,
  tables: readonly string[],
): Promise<ForeignKeyOrphans[]> {
  if (tables.length === 0) return [];
  const rows = await queryRows(
    conn,
    `SELECT CONSTRAINT_SCHEMA AS s, CONSTRAINT_NAME AS name, TABLE_SCHEMA AS cs, TABLE_NAME AS ct,
            COLUMN_NAME AS cc, REFERENCED_TABLE_SCHEMA AS ps, REFERENCED_TABLE_NAME AS pt,
            REFERENCED_COLUMN_NAME AS pc
       FROM information_schema.KEY_COLUMN_USAGE
      WHERE REFERENCED_TABLE_NAME IS NOT NULL
        AND (CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) IN (?) OR CONCAT(REFERENCED_TABLE_SCHEMA, '.', REFERENCED_TABLE_NAME) IN (?))
      ORDER BY CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION`,
    [tables, tables],
  );
  const keys = new Map<
    string,
    { child: [string, string]; parent: [string, string]; pairs: [string, string][] }
  >();
  for (const row of rows) {
    const id = `${row.s}.${row.ct}.${row.name}`;
    let key = keys.get(id);
    if (!key) {
      key = { child: [String(row.cs), String(row.ct)], parent: [String(row.ps), String(row.pt)], pairs: [] };
      keys.set(id, key);
    }
    key.pairs.push([String(row.cc), String(row.pc)]);
  }
  const found: ForeignKeyOrphans[] = [];
  for (const [id, key] of keys) {
    const join = key.pairs.map(([c, p]) => `p.${quoteIdentifier(p)} = c.${quoteIdentifier(c)}`).join(' AND ');
    const notNull = key.pairs.map(([c]) => `c.${quoteIdentifier(c)} IS NOT NULL`).join(' AND ');
    const [count] = await queryRows(
      conn,
      `SELECT COUNT(*) AS n FROM ${quoteTableName(...key.child)} c
        WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${quoteTableName(...key.parent)} p WHERE ${join})`,
    );
    found.push({
      constraint: id.split('.').slice(2).join('.'),
      child: key.child.join('.'),
      parent: key.parent.join('.'),
      columns: key.pairs.map(([c]) => c),
      orphans: Number(count?.n ?? 0),
    });
  }
  return found;
}
