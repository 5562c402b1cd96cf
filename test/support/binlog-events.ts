/**
 * A sandbox's whole binlog as decoded events with their bytes, the way a
 * restore reads its chain; and damage done to a binlog file on purpose.
 */
import { existsSync } from 'node:fs';
import { cp, mkdtemp, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { decodeBatchesWithBytes, type EventWithBytes } from '../../src/backup/index.js';
import { type RawEvent, readBinlogFilesBatches } from '../../src/binlog/index.js';
import { runSalvage } from './cli.js';

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

/**
 * `salvage undo --dir` over a copy of `server`'s binlogs in which the
 * ANNOTATE_ROWS after the bad transaction's GTID event (`file`, `gtidAt`) is
 * damaged: an event the undo never decodes, so only its checksum can tell.
 * The command must fail with BINLOG_CHECKSUM naming that event, and write
 * nothing.
 */
export async function expectUndoRefusesDamagedAnnotation(
  server: { readonly dir: string; readonly dsn: string },
  gtid: string,
  file: string,
  gtidAt: number,
): Promise<void> {
  const copy = await mkdtemp(join(tmpdir(), 'salvage-undo-crc-'));
  await cp(join(server.dir, 'binlog'), copy, { recursive: true });
  const annotation = await damageAnnotation(join(copy, file), gtidAt);
  const out = join(copy, 'undo.sql');
  const run = await undoFromDir(server, gtid, copy, out);
  expect(run.code, run.stderr).toBe(2);
  expect(JSON.parse(run.stdout).error).toMatchObject({ code: 'BINLOG_CHECKSUM', file, position: annotation });
  expect(existsSync(out)).toBe(false);
}

/** `salvage undo --json` of one transaction, reading the binlogs of `dir`, the script to `out`. */
export function undoFromDir(
  server: { readonly dsn: string },
  gtid: string,
  dir: string,
  out: string,
): ReturnType<typeof runSalvage> {
  return runSalvage(['undo', '--source', server.dsn, '--gtid', gtid, '--dir', dir, '--out', out, '--json']);
}

/** Flips a bit inside the ANNOTATE_ROWS event that follows the GTID event at `gtidAt`; its offset. */
async function damageAnnotation(path: string, gtidAt: number): Promise<number> {
  const handle = await open(path, 'r+');
  try {
    const header = Buffer.alloc(19);
    await handle.read(header, 0, 19, gtidAt);
    const annotation = gtidAt + header.readUInt32LE(9);
    await handle.read(header, 0, 19, annotation);
    if (header[4] !== 160) throw new Error(`no ANNOTATE_ROWS after the GTID event at ${path}:${gtidAt}`);
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, annotation + 25);
    await handle.write(Buffer.from([(byte[0] as number) ^ 0x20]), 0, 1, annotation + 25);
    return annotation;
  } finally {
    await handle.close();
  }
}
