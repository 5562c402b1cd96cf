/** A sandbox's whole binlog as decoded events with their bytes, the way a restore reads its chain. */
import { join } from 'node:path';
import { decodeBatchesWithBytes, type EventWithBytes } from '../../src/backup/index.js';
import { type RawEvent, readBinlogFilesBatches } from '../../src/binlog/index.js';

/** Every event of the server's binlog directory, in batches, each event with its own copy of its bytes. */
export async function* binlogEventBatches(server: {
  readonly dir: string;
}): AsyncGenerator<EventWithBytes[]> {
  // The file reader reuses its buffer: events kept past their batch need copies.
  async function* copied(): AsyncGenerator<RawEvent[]> {
    for await (const batch of readBinlogFilesBatches({ dir: join(server.dir, 'binlog') })) {
      yield batch.map((raw) => ({ ...raw, bytes: Buffer.from(raw.bytes) }));
    }
  }
  yield* decodeBatchesWithBytes(copied(), { verify: true, strict: true });
}

/** binlogEventBatches one event at a time. */
export async function* binlogEvents(server: { readonly dir: string }): AsyncGenerator<EventWithBytes> {
  for await (const batch of binlogEventBatches(server)) yield* batch;
}
