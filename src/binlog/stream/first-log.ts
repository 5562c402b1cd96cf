/**
 * Where on a server to start streaming for some transactions: the newest
 * binary log none of them was logged before, by the GTID state each log
 * starts with (SHOW BINLOG EVENTS ... LIMIT n), asked newest first. A recent
 * bad change on a server keeping weeks of binlogs is then read from its own
 * log, not from the oldest one.
 */
import { type ConnectTarget, queryRows, quoteValue, withConnection } from '../../mysql/index.js';
import { type GtidParts, gtidParts, lowestOfStream } from '../gtid-list.js';
import { firstFileHolding, parseGtidState } from '../gtid-state.js';
import type { ReplicationStart } from './replication-source.js';

/** Events a log can start with before its GTID state (format description, checkpoint...). */
const STATE_WITHIN = 4;

/** The start for these transactions; undefined when no log can be skipped (or the server will not say). */
export async function startForTransactions(
  server: ConnectTarget,
  gtids: Iterable<string>,
  options: { readonly seek?: boolean } = {},
): Promise<ReplicationStart | undefined> {
  try {
    return await withConnection(server, async (conn) => {
      const logs = (await queryRows(conn, 'SHOW BINARY LOGS')).map((row) => String(row.Log_name));
      // Each log's state event (GTID_LIST or PREVIOUS_GTIDS), asked once.
      const states: ({ type: string; text: string } | undefined)[] = [];
      const stateOf = async (k: number): Promise<{ type: string; text: string } | undefined> => {
        if (!(k in states)) {
          const events = await queryRows(
            conn,
            `SHOW BINLOG EVENTS IN ${quoteValue(logs[k] as string)} LIMIT ${STATE_WITHIN}`,
          );
          const state = events.find((e) => e.Event_type === 'Gtid_list' || e.Event_type === 'Previous_gtids');
          states[k] =
            state === undefined ? undefined : { type: String(state.Event_type), text: String(state.Info) };
        }
        return states[k];
      };
      const index = await firstFileHolding(
        logs.length,
        async (k) => {
          const state = await stateOf(k);
          return state === undefined ? undefined : parseGtidState(state.text);
        },
        gtids,
      );
      const listed = logs.length > 0 ? await stateOf(Math.max(index, 0)) : undefined;
      const after =
        options.seek === true && listed?.type === 'Gtid_list'
          ? positionBefore(gtids, listed.text)
          : undefined;
      if (after !== undefined) return { kind: 'gtid', after, strict: false };
      return index > 0 ? { kind: 'position', file: logs[index] as string, position: 4 } : undefined;
    });
  } catch {
    // Without the privilege to list the logs, the stream starts at the oldest one, as before.
    return undefined;
  }
}

/**
 * A MariaDB replica position that makes the server itself skip, without
 * sending them, the transactions of the log before the first of `gtids`:
 * every domain where the log's GTID_LIST leaves it, but each domain of
 * `gtids` just before the lowest of them in it, by its server (the server
 * then skips that domain's transactions until that server's next one).
 * Undefined when a domain's lowest is its first transaction, or `gtids` are
 * not all MariaDB GTIDs.
 *
 * The server sends every other domain from the start of the log it picks,
 * and everything once the start is reached, so nothing after the first of
 * `gtids` is missed; should one of them lie before that start (out of
 * order, or logged by another server before the lowest), the reader does
 * not find it and reads again from the log's start (readFromTransactions).
 */
function positionBefore(gtids: Iterable<string>, gtidList: string): string | undefined {
  const lowest = lowestPerDomain(gtids);
  if (lowest === undefined) return undefined;
  // The list's last entry of each domain is where it leaves that domain; GTID_LIST order is kept.
  const domains = new Map<string, string>();
  for (const entry of gtidList.replace(/[[\]\s]/g, '').split(',')) {
    const parts = gtidParts(entry);
    if (parts !== undefined && !parts.mysql) domains.set(parts.stream, entry);
  }
  for (const first of lowest.values()) {
    if (typeof first.sequence !== 'number' || first.sequence < 2) return undefined;
    domains.set(first.stream, `${first.prefix}${first.sequence - 1}`);
  }
  return [...domains.values()].join(',');
}

/** The lowest GTID of each MariaDB domain among `gtids`; undefined when one is not a MariaDB GTID. */
function lowestPerDomain(gtids: Iterable<string>): Map<string, GtidParts> | undefined {
  // One domain (one range, the usual case) is found without taking every GTID apart.
  const one = lowestOfStream(gtids);
  if (one !== undefined) return one.mysql ? undefined : new Map([[one.stream, one]]);
  const lowest = new Map<string, GtidParts>();
  for (const gtid of gtids) {
    const parts = gtidParts(gtid);
    if (parts === undefined || parts.mysql) return undefined;
    const known = lowest.get(parts.stream);
    if (known === undefined || parts.sequence < known.sequence) lowest.set(parts.stream, parts);
  }
  return lowest.size > 0 ? lowest : undefined;
}
