/**
 * What a binlog file's first events say was logged before it: MariaDB's
 * GTID_LIST (the last sequence number of each domain and server) and
 * MySQL's PREVIOUS_GTIDS (a GTID set). With them a reader looking for some
 * transactions skips every older file instead of reading it.
 */
import { lowestPerServer } from './gtid-list.js';

/** The transactions logged before a file began. */
export interface LoggedBefore {
  /** True when `gtid` was certainly logged before the file (false when unsure). */
  has(gtid: string): boolean;
}

const MARIADB = /^(\d+)-(\d+)-(\d+)$/;
const MYSQL = /^(.+):(\d+)$/;

/**
 * Parses `0-1-100,0-2-7` (GTID_LIST, gtid_binlog_state) or
 * `uuid:1-5:7,uuid2:tag:3` (PREVIOUS_GTIDS); brackets and line breaks as
 * SHOW BINLOG EVENTS prints them are allowed.
 */
export function parseGtidState(text: string): LoggedBefore {
  const parts = text
    .replace(/[[\]\s]/g, '')
    .split(',')
    .filter((p) => p !== '');
  const lastSequence = new Map<string, bigint>();
  const intervals = new Map<string, [bigint, bigint][]>();
  for (const part of parts) {
    const mariadb = MARIADB.exec(part);
    if (mariadb) {
      lastSequence.set(`${mariadb[1]}-${mariadb[2]}`, BigInt(mariadb[3] as string));
      continue;
    }
    // uuid[:tag]:a-b:c... — the source is everything before the first number range.
    const pieces = part.split(':');
    const first = pieces.findIndex((p, i) => i > 0 && /^\d+(-\d+)?$/.test(p));
    if (first < 1) continue;
    const source = pieces.slice(0, first).join(':').toLowerCase();
    const list = intervals.get(source) ?? [];
    for (const range of pieces.slice(first)) {
      const [a, b] = range.split('-');
      if (a === undefined || !/^\d+$/.test(a) || (b !== undefined && !/^\d+$/.test(b))) continue;
      list.push([BigInt(a), BigInt(b ?? a)]);
    }
    intervals.set(source, list);
  }
  return {
    has(gtid) {
      const mariadb = MARIADB.exec(gtid);
      if (mariadb) {
        const last = lastSequence.get(`${mariadb[1]}-${mariadb[2]}`);
        return last !== undefined && BigInt(mariadb[3] as string) <= last;
      }
      const mysql = MYSQL.exec(gtid);
      if (!mysql) return false;
      const n = BigInt(mysql[2] as string);
      return (intervals.get((mysql[1] as string).toLowerCase()) ?? []).some(([a, b]) => a <= n && n <= b);
    },
  };
}

/**
 * The newest file none of `gtids` was logged before: every one of them is
 * in it or a later file. `stateOf(k)` reads file k's state (undefined:
 * unknown, never skipped past), newest first, only as far as needed; 0 when
 * nothing can be skipped.
 */
export async function firstFileHolding(
  files: number,
  stateOf: (index: number) => Promise<LoggedBefore | undefined>,
  gtids: Iterable<string>,
): Promise<number> {
  // The lowest of each MariaDB server decides for all of its others (has() compares sequence numbers).
  const wanted = lowestPerServer(gtids);
  for (let k = files - 1; k > 0; k--) {
    const state = await stateOf(k);
    if (state !== undefined && !wanted.some((gtid) => state.has(gtid))) return k;
  }
  return 0;
}
