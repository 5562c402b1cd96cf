/**
 * The parts of mysql2's internals that salvage uses, typed in one place.
 * Two jobs need raw protocol access that mysql2's public API does not give:
 * the binlog dump (its BinlogDump command decodes events itself and knows
 * nothing of MariaDB) and the pipelined replay (it sends a query only after
 * the previous one's replies). Both put a small command object of their own on
 * mysql2's command queue. Names are as in mysql2's lib/base/connection.js and
 * lib/packets/packet.js.
 */
import type { Connection } from './connect.js';

/** A packet as a queued command receives it. */
export interface IncomingPacket {
  readonly buffer: Buffer;
  readonly offset: number;
  readonly end: number;
  isError(): boolean;
  isEOF(): boolean;
  asError(encoding?: string): Error;
}

/** What mysql2 asks of a command: `execute` per packet (first with none), `onResult` on fatal errors. */
export interface QueuedCommand {
  execute(packet: IncomingPacket | undefined, connection: ConnectionInternals): boolean;
  onResult(error: Error): void;
}

/** The callback connection under a promise Connection; most of this is not in mysql2's typings. */
export interface ConnectionInternals {
  readonly clientEncoding?: string;
  sequenceId: number;
  readonly stream: { write(data: Buffer): boolean; destroy(): void; pause(): void; resume(): void };
  addCommand(command: QueuedCommand): unknown;
  writePacket(packet: {
    length(): number;
    writeHeader(sequenceId: number): void;
    readonly buffer: Buffer;
  }): void;
  _resetSequenceId(): void;
  destroy(): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** The internals of a connection opened by connect(). */
export function connectionInternals(connection: Connection): ConnectionInternals {
  return (connection as unknown as { connection: ConnectionInternals }).connection;
}
