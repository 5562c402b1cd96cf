/**
 * Where on a server to start streaming for some transactions: the newest
 * binary log none of them was logged before, by the GTID state each log
 * starts with (SHOW BINLOG EVENTS ... LIMIT n), asked newest first. A recent
 * bad change on a server keeping weeks of binlogs is then read from its own
 * log, not from the oldest one.
 */
import { type ConnectTarget, queryRows, quoteValue, withConnection } from '../../mysql/index.js';
import { firstFileHolding, parseGtidState } from '../gtid-state.js';
import type { ReplicationStart } from './replication-source.js';

/** Events a log can start with before its GTID state (format description, checkpoint...). */
const STATE_WITHIN = 4;

/** The start for these transactions; undefined when no log can be skipped (or the server will not say). */
export async function startForTransactions(
  server: ConnectTarget,
  gtids: Iterable<string>,
): Promise<ReplicationStart | undefined> {
  try {
    return await withConnection(server, async (conn) => {
      const logs = (await queryRows(conn, 'SHOW BINARY LOGS')).map((row) => String(row.Log_name));
      const index = await firstFileHolding(
        logs.length,
        async (k) => {
          const events = await queryRows(
            conn,
            `SHOW BINLOG EVENTS IN ${quoteValue(logs[k] as string)} LIMIT ${STATE_WITHIN}`,
          );
          const state = events.find((e) => e.Event_type === 'Gtid_list' || e.Event_type === 'Previous_gtids');
          return state === undefined ? undefined : parseGtidState(String(state.Info));
        },
        gtids,
      );
      return index > 0 ? { kind: 'position', file: logs[index] as string, position: 4 } : undefined;
    });
  } catch {
    // Without the privilege to list the logs, the stream starts at the oldest one, as before.
    return undefined;
  }
}
