/**
 * Replay by the server's own replication applier: the binlog chain is written
 * into the target's data directory as relay logs (relay-log.ts) and the
 * target's SQL thread applies them, as it would a primary's. The applier
 * reads events straight from disk, with no client round trip, no base64 and
 * no statement parsing per transaction, in one applier session across file
 * rotations; it keeps every transaction's GTID and commit order, and checks
 * every event's checksum again. Only for a MariaDB sandbox salvage made for
 * the restore: it needs the data directory, a relay log name and
 * log_slave_updates, which restoreBackup gives it.
 */
import { writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EventWithBytes } from '../backup/index.js';
import { SalvageError } from '../errors.js';
import { type Connection, type ConnectTarget, connect, queryRows, type Row } from '../mysql/index.js';
import type { Coordinates } from './chain.js';
import {
  OwnServerIdEvent,
  type RelayLogPlace,
  type RelayLogs,
  relayIndex,
  transactionsBefore,
  writeRelayLogs,
} from './relay-log.js';
import { type ReplayResult, relaxDurability, throwIfInterrupted } from './replay.js';

export interface RelayReplayOptions {
  readonly target: ConnectTarget;
  /** The events to apply in batches, from a transaction boundary; the caller bounds them at the cut point. */
  readonly events: AsyncIterable<readonly EventWithBytes[]>;
  /** GTIDs of transactions not to apply. */
  readonly skip?: ReadonlySet<string>;
  /** Only these tables (`db.table`), by the applier's own replication filter; all when undefined. */
  readonly tables?: ReadonlySet<string>;
  /** See ReplayOptions.relaxDurability. */
  readonly relaxDurability?: boolean;
  /** Transactions applied so far, now and then. */
  readonly onProgress?: (replayed: number) => void;
  readonly signal?: AbortSignal;
}

/** Why the server's applier cannot replay into a target (undefined: it can). */
export async function relayReplayRefusal(target: ConnectTarget): Promise<string | undefined> {
  const conn = await connect(target);
  try {
    return refusal(await readApplierSettings(conn));
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

/**
 * Applies `events` with the target's replication applier. Returns undefined,
 * having applied nothing, when an event carries the target's own server id
 * (the applier would skip it): the caller replays over a session instead.
 */
export async function replayWithServerApplier(
  options: RelayReplayOptions,
): Promise<ReplayResult | undefined> {
  const started = performance.now();
  const conn = await connect(options.target);
  try {
    const settings = await readApplierSettings(conn);
    const why = refusal(settings);
    if (why !== undefined)
      throw new SalvageError('INTERNAL', `the server's applier cannot replay here: ${why}`);
    // A restored replica's own replication settings must not mix with ours.
    await conn.query('STOP SLAVE');
    await conn.query('RESET SLAVE ALL');
    let logs: RelayLogs;
    try {
      logs = await writeRelayLogs(options.events, settings.place, {
        skip: options.skip ?? new Set(),
        targetServerId: settings.serverId,
        tables: options.tables,
        signal: options.signal,
      });
    } catch (error) {
      if (error instanceof OwnServerIdEvent) return undefined;
      throw error;
    }
    if (logs.last !== undefined) {
      await writeFile(settings.indexFile, relayIndex(logs.files));
      const restoreDurability = options.relaxDurability ? await relaxDurability(conn) : undefined;
      const restoreSettings = await configureApplier(conn, options.tables);
      await conn.query(
        "CHANGE MASTER TO MASTER_HOST='relay-log.invalid', MASTER_USER='salvage', MASTER_USE_GTID=no, " +
          `RELAY_LOG_FILE='${logs.files[0]}', RELAY_LOG_POS=4`,
      );
      try {
        await conn.query('START SLAVE SQL_THREAD');
        await waitApplied(conn, logs, logs.last, options);
      } finally {
        await conn.query('STOP SLAVE SQL_THREAD').catch(() => undefined);
        // Also deletes the relay logs the applier has not purged yet.
        await conn.query('RESET SLAVE ALL').catch(() => undefined);
        await restoreSettings().catch(() => undefined);
      }
      await restoreDurability?.();
    }
    return {
      replayed: logs.transactions,
      skipped: logs.skipped,
      filtered: logs.filtered,
      last: logs.last,
      seconds: Math.round(performance.now() - started) / 1000,
    };
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

interface ApplierSettings {
  readonly mariadb: boolean;
  readonly logBin: boolean;
  readonly logReplicaUpdates: boolean;
  readonly serverId: number;
  readonly datadir: string;
  /** The relay log's full base name (undefined when the server has none configured). */
  readonly base: string | undefined;
  readonly place: RelayLogPlace;
  readonly indexFile: string;
}

async function readApplierSettings(conn: Connection): Promise<ApplierSettings> {
  const [row] = await queryRows(
    conn,
    'SELECT @@version AS version, @@log_bin AS logBin, @@log_slave_updates AS logReplicaUpdates, ' +
      '@@server_id AS serverId, @@datadir AS datadir, @@relay_log_basename AS base, @@relay_log_index AS idx',
  );
  const r = row as Row;
  const base = r.base === null ? undefined : String(r.base);
  const datadir = String(r.datadir);
  return {
    mariadb: /mariadb/i.test(String(r.version)),
    logBin: Number(r.logBin) === 1,
    logReplicaUpdates: Number(r.logReplicaUpdates) === 1,
    serverId: Number(r.serverId),
    datadir,
    base,
    place: {
      dir: base === undefined ? datadir : dirname(base),
      baseName: base === undefined ? '' : basename(base),
    },
    indexFile: r.idx === null ? `${base}.index` : String(r.idx),
  };
}

function refusal(s: ApplierSettings): string | undefined {
  if (!s.mariadb) return 'only MariaDB targets are replayed this way';
  if (s.base === undefined) return 'the server has no relay_log configured';
  // The index lists files relative to the data directory; other places are not ours to write.
  if (resolve(dirname(s.base)) !== resolve(s.datadir)) return 'its relay logs are outside its data directory';
  if (s.logBin && !s.logReplicaUpdates)
    return 'it would not log the replayed transactions (log_slave_updates is OFF)';
  return undefined;
}

/**
 * A replica's applier by default forgives DDL that finds things already
 * there or gone (slave_ddl_exec_mode=IDEMPOTENT); a restore must fail as the
 * statements would. With `tables`, the applier's table filter leaves the
 * others out. The function returned puts the settings back.
 */
async function configureApplier(
  conn: Connection,
  tables: ReadonlySet<string> | undefined,
): Promise<() => Promise<void>> {
  const [row] = await queryRows(
    conn,
    'SELECT @@global.slave_exec_mode AS dml, @@global.slave_ddl_exec_mode AS ddl, @@global.replicate_do_table AS doTable',
  );
  await conn.query("SET GLOBAL slave_exec_mode = 'STRICT', GLOBAL slave_ddl_exec_mode = 'STRICT'");
  if (tables !== undefined) await conn.query('SET GLOBAL replicate_do_table = ?', [[...tables].join(',')]);
  return async () => {
    await conn.query('SET GLOBAL slave_exec_mode = ?, GLOBAL slave_ddl_exec_mode = ?', [
      String(row?.dml),
      String(row?.ddl),
    ]);
    if (tables !== undefined)
      await conn.query('SET GLOBAL replicate_do_table = ?', [String(row?.doTable ?? '')]);
  };
}

/** Polls the applier until it has applied the last transaction; its error, if it stops, is ours. */
async function waitApplied(
  conn: Connection,
  logs: RelayLogs,
  last: Coordinates,
  options: RelayReplayOptions,
): Promise<void> {
  for (;;) {
    const [status] = await queryRows(conn, 'SHOW SLAVE STATUS');
    const s = status as Row;
    const at = { file: String(s.Relay_Master_Log_File ?? ''), position: Number(s.Exec_Master_Log_Pos ?? 0) };
    if (at.file === last.file && at.position >= last.position) {
      options.onProgress?.(logs.transactions);
      return;
    }
    options.onProgress?.(transactionsBefore(logs.marks, at));
    if (s.Slave_SQL_Running !== 'Yes') throw applierStopped(s, at);
    throwIfInterrupted(options.signal);
    await sleep(50);
  }
}

function applierStopped(s: Row, at: Coordinates): SalvageError {
  const where = at.file === '' ? 'at its first transaction' : `after ${at.file}:${at.position}`;
  const message = String(s.Last_SQL_Error ?? '') || 'the applier stopped without an error';
  return new SalvageError('SERVER_ERROR', `replaying failed ${where}: ${message}`, {
    hint: 'The restored server refused a replayed transaction; it was restored from a backup that does not match the binlog, or the transaction depends on state salvage cannot reproduce.',
    context: { file: at.file, position: at.position, errno: Number(s.Last_SQL_Errno ?? 0) },
  });
}
