/**
 * A small pool of connections to one server, each inside its own
 * START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY: every chunk is read
 * from a stable view however long the comparison takes. The snapshots of the
 * pool's connections are opened one right after the other, not at one
 * instant; on a server that still takes writes (not frozen) chunks read by
 * different connections may see a few commits' difference.
 */
import { type Connection, type ConnectTarget, connect, queryRows } from '../mysql/index.js';

export interface SnapshotPool {
  readonly size: number;
  /** Runs fn on the next free connection (FIFO). */
  run<T>(fn: (conn: Connection) => Promise<T>): Promise<T>;
  /** Ends the snapshots and closes every connection. */
  close(): Promise<void>;
}

/** Opens `size` connections (at least one), each with its snapshot started. */
export async function openSnapshotPool(target: ConnectTarget, size: number): Promise<SnapshotPool> {
  const connections: Connection[] = [];
  try {
    for (let i = 0; i < Math.max(1, size); i++) connections.push(await connect(target));
    // Opened after every connection is up, back to back, so the views are as close as possible.
    for (const conn of connections) await startSnapshot(conn);
  } catch (error) {
    await Promise.all(connections.map(closeQuietly));
    throw error;
  }
  const idle = [...connections];
  const waiting: ((conn: Connection) => void)[] = [];
  const release = (conn: Connection): void => {
    const next = waiting.shift();
    if (next) next(conn);
    else idle.push(conn);
  };
  return {
    size: connections.length,
    async run(fn) {
      const conn = idle.pop() ?? (await new Promise<Connection>((resolve) => waiting.push(resolve)));
      try {
        return await fn(conn);
      } finally {
        release(conn);
      }
    },
    async close() {
      await Promise.all(connections.map(closeQuietly));
    },
  };
}

/** Session settings every checksum connection shares, so rendering is the same on both servers. */
export async function prepareChecksumSession(conn: Connection): Promise<void> {
  await queryRows(conn, "SET SESSION time_zone = '+00:00'");
}

async function startSnapshot(conn: Connection): Promise<void> {
  await prepareChecksumSession(conn);
  await queryRows(conn, 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
  await queryRows(conn, 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
}

async function closeQuietly(conn: Connection): Promise<void> {
  await conn.end().catch(() => conn.destroy());
}
