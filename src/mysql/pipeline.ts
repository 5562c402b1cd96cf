/**
 * Several queries in flight on one session (the restore's replay, the
 * undo's statements): COM_QUERY packets are
 * written back to back and the replies read in order, so the server never
 * waits for the client between queries. mysql2 sends a query only after the
 * previous one's replies, so this is a small command object of ours on its
 * command queue (as src/binlog/stream/wire.ts does for the dump): it writes raw
 * packets on the connection's socket and reads every reply packet itself.
 * mysql2 internals used: addCommand, stream, sequenceId, destroy
 * (lib/base/connection.js) and the packet object (lib/packets/packet.js).
 */
import type { Connection } from './connect.js';
import { type ConnectionInternals, connectionInternals, type IncomingPacket } from './driver-internals.js';

/** How a query ended: `replies` statements succeeded; `error` is the next one's error, if any. */
export interface QueryOutcome {
  readonly replies: number;
  /** Rows the statements changed, summed over their OK replies. */
  readonly affectedRows: number;
  readonly error?: Error;
}

interface Pending {
  readonly statements: number;
  readonly bytes: number;
  /** Sequence id of the first reply packet: the number of packets the query took. */
  readonly firstReply: number;
  readonly done: (outcome: QueryOutcome) => void;
  replies: number;
  affectedRows: number;
  phase: 'reply' | 'columns' | 'rows';
}

const SERVER_MORE_RESULTS_EXISTS = 0x0008;
const MAX_PACKET = 0xffffff;

/**
 * Queries in flight on one connection, at most `maxQueries` and about
 * `maxBytes` of them (always at least one). Outcomes are delivered in order.
 * Nothing else may use the connection between the first `send` and `drain`.
 */
export class QueryPipeline {
  private readonly internals: ConnectionInternals;
  private readonly pending: Pending[] = [];
  private head = 0;
  private bytes = 0;
  private active = false;
  private closing = false;
  private broken: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(
    conn: Connection,
    private readonly maxQueries: number,
    private readonly maxBytes: number,
  ) {
    this.internals = connectionInternals(conn);
  }

  /** Writes one query once there is room in the window; `done` gets its outcome later. */
  async send(sql: string, statements: number, done: (outcome: QueryOutcome) => void): Promise<void> {
    const payload = Buffer.from(`\x03${sql}`, 'utf8');
    while (
      this.inFlight() > 0 &&
      (this.inFlight() >= this.maxQueries || this.bytes + payload.length > this.maxBytes)
    ) {
      await this.waitForReply();
    }
    if (this.broken) throw this.broken;
    this.start();
    const packets = frame(payload);
    if (this.inFlight() === 0) this.internals.sequenceId = packets.length;
    this.pending.push({
      statements,
      bytes: payload.length,
      firstReply: packets.length,
      done,
      replies: 0,
      affectedRows: 0,
      phase: 'reply',
    });
    this.bytes += payload.length;
    for (const packet of packets) this.internals.stream.write(packet);
  }

  /** Waits for every reply; the connection is free for ordinary queries afterwards. */
  async drain(): Promise<void> {
    this.closing = true;
    while (this.inFlight() > 0 && !this.broken) await this.waitForReply();
    if (this.broken) throw this.broken;
    // With nothing in flight the command cannot end on a reply: one cheap query ends it.
    if (this.active) {
      this.closing = false;
      await this.send('DO 0', 1, () => undefined);
      this.closing = true;
      while (this.active && !this.broken) await this.waitForReply();
      if (this.broken) throw this.broken;
    }
  }

  /** Closes the socket when replies may still be owed (after a failure elsewhere). */
  abandon(): boolean {
    if (!this.active) return false;
    this.internals.destroy();
    this.internals.stream.destroy();
    return true;
  }

  private inFlight(): number {
    return this.pending.length - this.head;
  }

  private waitForReply(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private start(): void {
    if (this.active) return;
    this.active = true;
    this.internals.addCommand({
      execute: (packet, connection) => (packet ? this.onPacket(packet, connection) : false),
      onResult: (error) => this.fail(error),
    });
  }

  /** One reply packet; true ends the command (nothing in flight and draining, or broken). */
  private onPacket(packet: IncomingPacket, connection: ConnectionInternals): boolean {
    const query = this.pending[this.head];
    if (query === undefined) {
      this.fail(new Error('the server sent a reply to no query'));
      return true;
    }
    const first = packet.buffer[packet.offset];
    let status: number | undefined;
    if (packet.isError()) {
      this.finish(query, packet.asError(connection.clientEncoding));
    } else if (query.phase === 'reply') {
      if (first === 0x00) {
        const ok = okPacket(packet);
        status = ok.status;
        query.affectedRows += ok.affectedRows;
      } else if (first === 0xfb) {
        this.fail(
          new Error('the server asked for a local file (LOAD DATA LOCAL), which replay does not send'),
        );
        return true;
      } else query.phase = 'columns';
    } else if (packet.isEOF()) {
      // Column definitions end with an EOF packet (mysql2 does not ask for CLIENT_DEPRECATE_EOF), then rows.
      if (query.phase === 'columns') query.phase = 'rows';
      else status = packet.buffer.readUInt16LE(packet.offset + 3);
    }
    if (status !== undefined) {
      query.replies++;
      query.phase = 'reply';
      if ((status & SERVER_MORE_RESULTS_EXISTS) === 0) {
        if (query.replies !== query.statements) {
          // The BINLOG reply quirk (replay-batch.ts): later replies would be taken for the next query's.
          this.fail(new Error(`the server answered ${query.replies} of the ${query.statements} statements`));
          return true;
        }
        this.finish(query, undefined);
      }
    }
    if (this.broken) return true;
    if (this.inFlight() === 0 && this.closing) {
      this.active = false;
      this.notify();
      return true;
    }
    return false;
  }

  private finish(query: Pending, error: Error | undefined): void {
    this.pending[this.head++] = undefined as unknown as Pending;
    if (this.head > 1024) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
    this.bytes -= query.bytes;
    const next = this.pending[this.head];
    if (next !== undefined) this.internals.sequenceId = next.firstReply;
    const { replies, affectedRows } = query;
    query.done(error ? { replies, affectedRows, error } : { replies, affectedRows });
    this.notify();
  }

  /** The connection is unusable: every query in flight is reported as not acknowledged. */
  private fail(error: Error): void {
    if (this.broken) return;
    this.broken = error;
    this.active = false;
    for (let i = this.head; i < this.pending.length; i++) {
      this.pending[i]?.done({
        replies: this.pending[i]?.replies ?? 0,
        affectedRows: this.pending[i]?.affectedRows ?? 0,
        error,
      });
    }
    this.pending.length = 0;
    this.head = 0;
    this.internals.destroy();
    this.internals.stream.destroy();
    this.notify();
  }
}

/** An OK packet's affected rows and status flags: the header byte, two length-encoded integers, the flags. */
function okPacket(packet: IncomingPacket): { affectedRows: number; status: number } {
  let at = packet.offset + 1;
  let affectedRows = 0;
  for (let i = 0; i < 2; i++) {
    const lead = packet.buffer[at] ?? 0;
    const width = lead < 0xfb ? 0 : lead === 0xfc ? 2 : lead === 0xfd ? 3 : 8;
    if (i === 0)
      affectedRows = width === 0 ? lead : Number(packet.buffer.readUIntLE(at + 1, Math.min(width, 6)));
    at += 1 + width;
  }
  return { affectedRows, status: packet.buffer.readUInt16LE(at) };
}

/** A payload as wire packets: 16 MiB - 1 at most each, sequence ids from 0, an empty one after a full last one. */
function frame(payload: Buffer): Buffer[] {
  const packets: Buffer[] = [];
  for (let at = 0, seq = 0; ; seq++) {
    const length = Math.min(MAX_PACKET, payload.length - at);
    const packet = Buffer.allocUnsafe(4 + length);
    packet.writeUIntLE(length, 0, 3);
    packet.writeUInt8(seq & 0xff, 3);
    payload.copy(packet, 4, at, at + length);
    packets.push(packet);
    at += length;
    if (length < MAX_PACKET) return packets;
  }
}
