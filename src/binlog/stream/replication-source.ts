/**
 * The live-server binlog source: the events a replica would receive, as the
 * same RawEvents the file source yields (same bytes, same file and offset),
 * so everything downstream cannot tell where they came from.
 */
import { randomInt } from 'node:crypto';
import { SalvageError } from '../../errors.js';
import { type ConnectTarget, describeTarget, detectFlavor, withConnection } from '../../mysql/index.js';
import { EventType } from '../event-types.js';
import type { EventChunk } from '../sources/files.js';
import type { Flavor, RawEvent } from '../types.js';
import { type BinlogCoordinates, FIRST_EVENT_POSITION, reachesIn, stepOf } from './coordinates.js';
import { type FailureScene, replicationFailure } from './failures.js';
import {
  binlogDumpGtidPayload,
  binlogDumpPayload,
  checkMariadbGtidPosition,
  DumpFlag,
  encodeMysqlGtidSet,
  MARIADB_CAPABILITY_GTID,
} from './protocol.js';
import { dumpEventBatches, type EventAdmission, openWire, type WireConnection } from './wire.js';

/** Where the stream starts. */
export type ReplicationStart =
  /** The oldest binary log the server still has, from its first event. */
  | { readonly kind: 'first' }
  /** A file and an event's start offset in it (default 4, the file's first event). */
  | { readonly kind: 'position'; readonly file: string; readonly position?: number }
  /**
   * After a GTID position: the first transaction not in it comes first.
   * MariaDB: `domain-server-seq[,...]` (as @@gtid_binlog_pos); MySQL: a GTID set
   * (`uuid:1-100[,...]`, as @@gtid_executed).
   */
  | {
      readonly kind: 'gtid';
      readonly after: string;
      /**
       * MariaDB: refuse a position the log has a hole after (the next GTID of
       * its server is not the next number), as a replica in strict mode does.
       * Default true; false starts at the next GTID of that server instead.
       */
      readonly strict?: boolean;
    };

export interface ReplicationStreamOptions {
  /** The server and login, as src/mysql resolves them from a DSN (`resolveTarget`). */
  readonly server: ConnectTarget;
  /** Default: `{ kind: 'first' }`. */
  readonly start?: ReplicationStart;
  /**
   * `end` (default): stop at the end of the binary log as it is when the stream
   * opens. `follow`: keep streaming new events until the consumer stops.
   */
  readonly until?: 'end' | 'follow';
  /** Server id this reader announces; must differ from every real replica's. Default: random in 2^31..2^32-2. */
  readonly serverId?: number;
  /** Detected from the server's version string when omitted. */
  readonly flavor?: Flavor;
  /** Follow mode: the server sends a heartbeat after this many idle seconds; silence for 3 of them is an error. Default 10. */
  readonly heartbeatSeconds?: number;
  /** Bytes of received events kept for a slow consumer before the socket is paused. Default 16 MiB. */
  readonly bufferBytes?: number;
  /**
   * For readers of part of the stream: each event is offered as it arrives,
   * in order, and one refused is dropped: never queued, never counted
   * against `bufferBytes`. The server's fake ROTATEs and heartbeats, which
   * the stream itself needs, always pass.
   */
  readonly admit?: EventAdmission;
}

const DEFAULT_BUFFER_BYTES = 16 * 1024 * 1024;
/** Events the stream reads itself (the fake ROTATE naming each file, heartbeats): never refused. */
const STREAM_TYPES: ReadonlySet<number> = new Set([
  EventType.ROTATE,
  EventType.HEARTBEAT,
  EventType.HEARTBEAT_V2,
]);
const DEFAULT_HEARTBEAT_SECONDS = 10;
/** Between two events in one received buffer: the next packet's 4-byte header and its 0x00 OK byte. */
const PACKET_FRAMING = 5;

/**
 * Streams a server's binary log over the replication protocol, as a replica
 * does (COM_BINLOG_DUMP, or COM_BINLOG_DUMP_GTID for a MySQL GTID start), and
 * yields every event that is in a binlog file, exactly as stored: the same
 * bytes, file name and offset the file source yields for it. Events the
 * server makes up for the stream (the fake ROTATE naming each file,
 * heartbeats, MariaDB's fake GTID_LIST) are not yielded; the file name they
 * carry is in each event's `file`. Two differences from the files, both the
 * server's doing: a FORMAT_DESCRIPTION arrives with the "binlog in use" flag
 * cleared, and when the start is past offset 4 the file's FORMAT_DESCRIPTION
 * comes first (at position 4) with log_pos and created set to 0.
 *
 * On MariaDB it announces GTID capability and asks for ANNOTATE_ROWS, so
 * GTID, GTID_LIST, BINLOG_CHECKPOINT and ANNOTATE_ROWS events arrive as
 * written. Breaking out of `for await` closes the connection and kills the
 * server's dump thread. Memory stays bounded: the socket is paused while the
 * consumer lags.
 *
 * Needs the REPLICATION SLAVE privilege. Throws SalvageError: CONNECT_FAILED,
 * ACCESS_DENIED, BINLOG_DISABLED, BINLOG_NOT_ON_SERVER (file purged),
 * GTID_NOT_FOUND, BAD_INPUT, SERVER_ERROR (with the server's message).
 *
 * @example
 * for await (const event of openReplicationStream({ server, start: { kind: 'position', file: 'bin.000002', position: 4 } })) { ... }
 */
export async function* openReplicationStream(
  options: ReplicationStreamOptions,
): AsyncGenerator<RawEvent, void, undefined> {
  for await (const batch of openReplicationBatches(options)) yield* batch;
}

/**
 * The events of openReplicationStream in batches, as they arrive: readers
 * of a whole binlog loop over a batch synchronously and await once per
 * batch, not once per event.
 */
export async function* openReplicationBatches(
  options: ReplicationStreamOptions,
): AsyncGenerator<RawEvent[], void, undefined> {
  for await (const chunks of openReplicationChunks(options)) {
    const events: RawEvent[] = [];
    for (const { file, buffer, start, end, position, gap = 0 } of chunks) {
      for (let at = start, offset = position; at < end; ) {
        const length = buffer.readUInt32LE(at + 9);
        events.push({ file, position: offset, bytes: buffer.subarray(at, at + length) });
        at += length + gap;
        offset += length;
      }
    }
    if (events.length > 0) yield events;
  }
}

/**
 * The events of openReplicationStream as they arrive, in place: runs of
 * events that follow each other in one file and in one received buffer,
 * as the file source's chunks but for the packet framing between them
 * (`gap`), which decodeEventChunks steps over: no RawEvent, no Buffer and
 * no copy per event.
 */
export async function* openReplicationChunks(
  options: ReplicationStreamOptions,
): AsyncGenerator<EventChunk[], void, undefined> {
  const start = options.start ?? { kind: 'first' };
  const follow = options.until === 'follow';
  const scene = sceneOf(options.server, start);
  const fail = (error: unknown): unknown => replicationFailure(error, scene);

  const wire = await openWire(options.server);
  let dumpFinished = false;
  try {
    const session = await prepareSession(wire, options, start, follow).catch((error: unknown) => {
      throw fail(error);
    });
    let file: string | undefined;
    let next = FIRST_EVENT_POSITION;
    const end = session.end;
    let reachesEnd: ((position: number) => boolean) | undefined;
    const admit = options.admit;
    const batches = dumpEventBatches(
      wire,
      session.payload,
      {
        highWaterBytes: options.bufferBytes ?? DEFAULT_BUFFER_BYTES,
        idleTimeoutMs: follow ? 3_000 * session.heartbeatSeconds : undefined,
      },
      admit === undefined
        ? undefined
        : (bytes, start, end) => STREAM_TYPES.has(bytes[start + 4] as number) || admit(bytes, start, end),
    );
    try {
      for await (const received of batches) {
        const chunks: EventChunk[] = [];
        // The run being gathered: events of `file` at runPosition.., in runBuffer[runStart..runEnd).
        let runBuffer: Buffer | undefined;
        let runStart = 0;
        let runEnd = 0;
        let runPosition = 0;
        // The file bytes of the run so far (its buffer bytes less the framing between its events).
        let runBytes = 0;
        let runFile = '';
        const close = (): void => {
          if (runBuffer !== undefined) {
            chunks.push({
              file: runFile,
              buffer: runBuffer,
              start: runStart,
              end: runEnd,
              position: runPosition,
              gap: PACKET_FRAMING,
            });
          }
          runBuffer = undefined;
        };
        let done = false;
        for (const { buffer, bounds } of received) {
          for (let i = 0; i + 1 < bounds.length && !done; i += 2) {
            const at = bounds[i] as number;
            const stop = bounds[i + 1] as number;
            const step = stepOf(buffer, session.checksums, { file, next }, at, stop);
            if (step.kind === 'switch') {
              close();
              file = step.file;
              next = step.position;
              if (end !== undefined) reachesEnd = reachesIn(file, end);
              continue;
            }
            if (step.kind === 'skip') {
              close();
              continue;
            }
            if (file === undefined) {
              throw new SalvageError(
                'SERVER_ERROR',
                `${scene.server} sent an event before naming its binlog file.`,
              );
            }
            // An event goes on the run when it is the next one of the same file, the next packet in the same buffer.
            if (
              runBuffer !== buffer ||
              runEnd + PACKET_FRAMING !== at ||
              runFile !== file ||
              runPosition + runBytes !== step.position
            ) {
              close();
              runBuffer = buffer;
              runStart = at;
              runPosition = step.position;
              runBytes = 0;
              runFile = file;
            }
            runEnd = stop;
            runBytes += stop - at;
            if (step.nextPosition !== 0) next = step.position + (stop - at);
            if (reachesEnd?.(step.position + (stop - at))) done = true;
          }
        }
        close();
        if (chunks.length > 0) yield chunks;
        if (done) return;
      }
      dumpFinished = true;
    } catch (error) {
      throw fail(error);
    }
  } finally {
    wire.destroy();
    if (!dumpFinished) await killDumpThread(options.server, wire.threadId);
  }
}

interface Session {
  readonly payload: Buffer;
  /** Whether the events the server makes up carry a CRC32 (the checksum agreed at connect). */
  readonly checksums: boolean;
  /** Until-end mode: where the log ended when the stream opened. */
  readonly end: BinlogCoordinates | undefined;
  readonly heartbeatSeconds: number;
}

/** Sets the replica session variables the server reads when the dump starts (sql_repl.cc). */
async function prepareSession(
  wire: WireConnection,
  options: ReplicationStreamOptions,
  start: ReplicationStart,
  follow: boolean,
): Promise<Session> {
  const [settings] = await rowsOf(
    wire,
    'SELECT @@global.log_bin AS logBin, @@global.binlog_checksum AS checksum, @@version AS version, @@version_comment AS comment',
  );
  if (!settings || Number(settings.logBin) !== 1) {
    throw new SalvageError('BINLOG_DISABLED', 'The server does not write a binary log (log_bin is OFF).');
  }
  const flavor = options.flavor ?? detectFlavor(String(settings.version), String(settings.comment ?? ''));
  // Announcing the checksum makes the server send events as stored, CRC32 included (without it, it refuses).
  await rowsOf(
    wire,
    'SET @master_binlog_checksum = @@global.binlog_checksum, @source_binlog_checksum = @@global.binlog_checksum',
  );
  if (flavor === 'mariadb') await rowsOf(wire, `SET @mariadb_slave_capability = ${MARIADB_CAPABILITY_GTID}`);
  const heartbeatSeconds = options.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS;
  if (follow) {
    const nanoseconds = BigInt(Math.round(heartbeatSeconds * 1e9));
    await rowsOf(
      wire,
      `SET @master_heartbeat_period = ${nanoseconds}, @source_heartbeat_period = ${nanoseconds}`,
    );
  }
  const end = follow ? undefined : await currentEnd(wire, flavor);

  const serverId = options.serverId ?? randomInt(2 ** 31, 2 ** 32 - 1);
  let flags = follow ? 0 : DumpFlag.NON_BLOCK;
  if (flavor === 'mariadb') flags |= DumpFlag.SEND_ANNOTATE_ROWS;
  let payload: Buffer;
  switch (start.kind) {
    case 'first':
      // An empty name asks for the first file in the server's binlog index.
      payload = binlogDumpPayload('', FIRST_EVENT_POSITION, flags, serverId);
      break;
    case 'position':
      payload = binlogDumpPayload(start.file, checkPosition(start), flags, serverId);
      break;
    case 'gtid':
      if (flavor === 'mariadb') {
        const position = checkMariadbGtidPosition(start.after);
        await rowsOf(
          wire,
          `SET @slave_connect_state = '${position}', @slave_gtid_strict_mode = ${start.strict === false ? 0 : 1}, @slave_gtid_ignore_duplicates = 0`,
        );
        payload = binlogDumpPayload('', FIRST_EVENT_POSITION, flags, serverId);
      } else {
        payload = binlogDumpGtidPayload(encodeMysqlGtidSet(start.after), flags, serverId);
      }
      break;
  }
  return {
    payload,
    checksums: String(settings.checksum ?? 'NONE').toUpperCase() !== 'NONE',
    end,
    heartbeatSeconds,
  };
}

function checkPosition(start: { readonly file: string; readonly position?: number }): number {
  const position = start.position ?? FIRST_EVENT_POSITION;
  if (start.file === '' || /[/\\]/.test(start.file)) {
    throw new SalvageError('BAD_INPUT', `"${start.file}" is not a binary log file name.`, {
      hint: 'Give the name as SHOW BINARY LOGS prints it, without a directory, e.g. mysql-bin.000042.',
    });
  }
  if (!Number.isSafeInteger(position) || position < FIRST_EVENT_POSITION || position > 0xffff_ffff) {
    throw new SalvageError('BAD_INPUT', `Binlog position ${position} is not an event offset.`, {
      hint: 'Positions start at 4 (the first event) and are byte offsets below 4 GiB.',
    });
  }
  return position;
}

/**
 * The end of the binary log now (SHOW MASTER STATUS; MySQL 8.4 renamed it
 * SHOW BINARY LOG STATUS). It needs a privilege beyond REPLICATION SLAVE;
 * without it the dump still ends, at the end it reaches (non-blocking dump).
 */
async function currentEnd(wire: WireConnection, flavor: Flavor): Promise<BinlogCoordinates | undefined> {
  const statements =
    flavor === 'mysql' ? ['SHOW BINARY LOG STATUS', 'SHOW MASTER STATUS'] : ['SHOW MASTER STATUS'];
  for (const sql of statements) {
    try {
      const [row] = await rowsOf(wire, sql);
      if (!row?.File)
        throw new SalvageError('BINLOG_DISABLED', `${sql} shows no binary log: binary logging is off.`);
      return { file: String(row.File), position: Number(row.Position) };
    } catch (error) {
      const errno = (error as { errno?: number }).errno;
      if (errno === 1227) return undefined; // ER_SPECIFIC_ACCESS_DENIED_ERROR
      if (errno !== 1064) throw error; // only a syntax error means "try the older name"
    }
  }
  return undefined;
}

async function rowsOf(wire: WireConnection, sql: string): Promise<Record<string, unknown>[]> {
  const [rows] = await wire.connection.query(sql);
  return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
}

/**
 * The dump thread on the server only notices a closed socket when it next
 * writes, which in follow mode may be a heartbeat away; killing it frees the
 * server now. Best effort: the stream is over whatever happens here.
 */
async function killDumpThread(server: ConnectTarget, threadId: number): Promise<void> {
  try {
    await withConnection(server, (connection) => connection.query(`KILL CONNECTION ${Number(threadId)}`));
  } catch {
    // Already gone (ER_NO_SUCH_THREAD) or the server is unreachable: nothing is left to free.
  }
}

function sceneOf(server: ConnectTarget, start: ReplicationStart): FailureScene {
  return {
    server: describeTarget(server),
    user: server.user,
    file: start.kind === 'position' ? start.file : undefined,
    position: start.kind === 'position' ? (start.position ?? FIRST_EVENT_POSITION) : undefined,
    gtid: start.kind === 'gtid' ? start.after : undefined,
  };
}
