/**
 * Many single-row lookups in few round trips: each lookup stays its own
 * SELECT (same WHERE, same LIMIT, so the same answer as sent alone), and a
 * few hundred of them go to the server as one UNION ALL, tagged with their
 * index. One query per row was the undo's bottleneck: thousands of
 * sequential round trips.
 */
import { type Connection, queryRows, type Row } from '../mysql/index.js';

/** One lookup: `SELECT <what> FROM <from>` (`from` holds the table, WHERE and LIMIT). */
export interface Lookup {
  readonly what: string;
  readonly from: string;
}

/** Lookups per query, and the query size kept well under the smallest usual max_allowed_packet (1 MiB... 16 MiB). */
const MAX_LOOKUPS = 400;
const MAX_QUERY_CHARS = 512 * 1024;

/** Each lookup's rows, in the order of `lookups`. */
export async function lookupEach(conn: Connection, lookups: readonly Lookup[]): Promise<Row[][]> {
  const results: Row[][] = lookups.map(() => []);
  let parts: string[] = [];
  let chars = 0;
  const flush = async (): Promise<void> => {
    if (parts.length === 0) return;
    const sql = parts.join(' UNION ALL ');
    parts = [];
    chars = 0;
    for (const row of await queryRows(conn, sql)) {
      const { salvage_lookup: index, ...rest } = row;
      results[Number(index)]?.push(rest);
    }
  };
  for (const [index, lookup] of lookups.entries()) {
    const part = `(SELECT ${index} AS salvage_lookup, ${lookup.what} FROM ${lookup.from})`;
    if (parts.length >= MAX_LOOKUPS || (parts.length > 0 && chars + part.length > MAX_QUERY_CHARS)) {
      await flush();
    }
    parts.push(part);
    chars += part.length + 11;
  }
  await flush();
  return results;
}
