/**
 * The conflicts of a --skip restore: later transactions that changed rows the
 * skipped ones changed. Keeping those later writes may carry the skipped
 * damage forward, so the user gets each row and who touched it. The row
 * matching is the impact module's (same keys as `salvage impact` and undo).
 */

import type { EventWithBytes } from '../backup/index.js';
import type { BinlogEvent } from '../binlog/index.js';
import { changesOf, laterWrites, readTableFacts, traceBadChanges } from '../impact/index.js';
import { type ConnectTarget, withConnection } from '../mysql/index.js';

export interface Conflict {
  /** The skipped transaction that changed the row (the last one, when several did). */
  readonly skipped: string;
  readonly table: string;
  /** The row's key columns and values. */
  readonly key: Record<string, unknown>;
  /** Later transactions that changed the same row, in binlog order. */
  readonly later: readonly string[];
}

export interface ConflictOptions {
  /** The binlog from the first skipped transaction on. */
  readonly events: AsyncIterable<EventWithBytes>;
  readonly skip: readonly string[];
  /** The restored server: its schema tells how rows are keyed. */
  readonly target: ConnectTarget;
}

export async function findConflicts(options: ConflictOptions): Promise<Conflict[]> {
  return withConnection(options.target, async (conn) => {
    const trace = await traceBadChanges({
      gtids: options.skip,
      source: changesOf(eventsOnly(options.events)),
      tableFacts: (map) => readTableFacts(conn, map),
    });
    return laterWrites(trace).map((w) => ({ skipped: w.gtid, table: w.table, key: w.key, later: w.later }));
  });
}

async function* eventsOnly(events: AsyncIterable<EventWithBytes>): AsyncGenerator<BinlogEvent> {
  for await (const { event } of events) yield event;
}
