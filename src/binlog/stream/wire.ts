/**
 * The replication connection over mysql2. mysql2's own BinlogDump command
 * decodes events itself and knows nothing of MariaDB, so the dump is a small
 * command object of ours on mysql2's command queue: it writes the raw
 * COM_BINLOG_DUMP(_GTID) payload and hands back each event packet's bytes.
 * The mysql2 internals it uses are typed in src/mysql/driver-internals.ts.
 */
import {
  type Connection,
  type ConnectionInternals,
  type ConnectTarget,
  connect,
  connectionInternals,
  type QueuedCommand,
} from '../../mysql/index.js';

/** A connection opened for a dump. */
export interface WireConnection {
  /** The server's id for this connection (for KILL). */
  readonly threadId: number;
  /** For the session statements before the dump. */
  readonly connection: Connection;
  /** Closes the socket now, without the polite COM_QUIT. */
  destroy(): void;
  readonly internals: ConnectionInternals;
}

/** Opens a connection through src/mysql (TLS, credentials, connect errors) and reaches under it for the dump. */
export async function openWire(target: ConnectTarget): Promise<WireConnection> {
  const connection = await connect(target);
  const internals = connectionInternals(connection);
  // Errors after the handshake reach the dump through onResult; this keeps a late one from crashing the process.
  connection.on('error', () => undefined);
  return {
    threadId: connection.threadId,
    connection,
    internals,
    destroy: () => {
      internals.destroy();
      internals.stream.destroy();
    },
  };
}

/** Whether to keep the event at `bytes[start..end)` (in mysql2's buffer); false drops it, never queued. */
export type EventAdmission = (bytes: Buffer, start: number, end: number) => boolean;

/** Limits on what may wait in memory for a slow consumer before the socket is paused. */
export interface DumpLimits {
  readonly highWaterBytes: number;
  /** Fail when nothing arrives for this long while the consumer waits (follow mode, with heartbeats on). */
  readonly idleTimeoutMs?: number | undefined;
}

/**
 * Events received and not yet taken, read in place in the packets mysql2
 * received (each packet the socket's own data, or one reassembled from it):
 * event i is `buffer[bounds[2i]..bounds[2i + 1])`, the packet without its
 * header and 0x00 OK byte. No copy: half a million small Buffers cost more
 * to make and collect than their bytes, and copying each into larger
 * buffers still cost 0.1 s per 100 MB.
 */
export interface ReceivedEvents {
  readonly buffer: Buffer;
  readonly bounds: readonly number[];
}

/**
 * Sends a dump command and yields the events received so far, in order, as
 * batches: one await per batch, not per event.
 * Ends on the server's EOF packet (non-blocking dumps); throws the server's
 * error packet or a lost connection as mysql2 reports them. Pauses the
 * socket while more than `highWaterBytes` wait for the consumer, and resumes
 * when it takes them: events of at most twice that are held (a batch being
 * worked on, and what arrives meanwhile), with the rest of the socket reads
 * they came in. Events `admit` refuses are dropped as they arrive.
 */
export async function* dumpEventBatches(
  wire: WireConnection,
  payload: Buffer,
  limits: DumpLimits,
  admit?: EventAdmission,
): AsyncGenerator<ReceivedEvents[], void, undefined> {
  let queue: ReceivedEvents[] = [];
  let queuedBytes = 0;
  // The events of the buffer the last packet came in (in the queue), while more come in the same one.
  let open: { buffer: Buffer; bounds: number[] } | undefined;
  let paused = false;
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };

  let started = false;
  const command: QueuedCommand = {
    execute(packet, connection) {
      if (!started) {
        started = true;
        connection._resetSequenceId();
        connection.writePacket(framed(payload));
        return false;
      }
      if (!packet) return false;
      if (packet.isError()) {
        failure = packet.asError(connection.clientEncoding);
        notify();
        return true;
      }
      if (packet.isEOF()) {
        ended = true;
        notify();
        return true;
      }
      if (packet.buffer[packet.offset] !== 0x00) {
        failure = new Error(
          `unexpected packet 0x${packet.buffer[packet.offset]?.toString(16)} in the binlog dump`,
        );
        notify();
        return true;
      }
      if (admit !== undefined && !admit(packet.buffer, packet.offset + 1, packet.end)) return false;
      const start = packet.offset + 1;
      const length = packet.end - start;
      if (open === undefined || open.buffer !== packet.buffer) {
        open = { buffer: packet.buffer, bounds: [] };
        queue.push(open);
      }
      open.bounds.push(start, packet.end);
      queuedBytes += length;
      if (!paused && queuedBytes > limits.highWaterBytes) {
        paused = true;
        // The socket itself, not connection.pause(): that parks packets in mysql2, where a close
        // arriving meanwhile drops them (the server closes right after its EOF packet).
        connection.stream.pause();
      }
      notify();
      return false;
    },
    onResult(error) {
      if (ended) return;
      failure ??= error;
      notify();
    },
  };
  wire.internals.addCommand(command);

  let idle: NodeJS.Timeout | undefined;
  const idleTimeoutMs = limits.idleTimeoutMs;
  try {
    while (true) {
      if (queue.length > 0) {
        const batch = queue;
        queue = [];
        queuedBytes = 0;
        // What arrives next starts new bounds: the taken ones are the consumer's.
        open = undefined;
        if (paused) {
          paused = false;
          wire.internals.stream.resume();
        }
        yield batch;
        continue;
      }
      if (failure) throw failure;
      if (ended) return;
      // Only time the server while waiting for it, not while the consumer is busy.
      if (idleTimeoutMs !== undefined) {
        idle = setTimeout(() => {
          failure ??= Object.assign(
            new Error(`the server sent nothing, not even a heartbeat, for ${idleTimeoutMs / 1000} s`),
            {
              code: 'ETIMEDOUT',
            },
          );
          notify();
        }, idleTimeoutMs);
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      clearTimeout(idle);
    }
  } finally {
    clearTimeout(idle);
  }
}

/** A packet as mysql2's writePacket takes it: 4 header bytes reserved, filled in with length and sequence id. */
function framed(payload: Buffer): {
  length(): number;
  writeHeader(sequenceId: number): void;
  buffer: Buffer;
} {
  const buffer = Buffer.alloc(4 + payload.length);
  payload.copy(buffer, 4);
  return {
    buffer,
    length: () => buffer.length,
    writeHeader(sequenceId) {
      buffer.writeUIntLE(payload.length, 0, 3);
      buffer.writeUInt8(sequenceId, 3);
    },
  };
}
