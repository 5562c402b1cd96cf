/**
 * The binlog chain a restore replays: from a backup's consistent point, the
 * repository's archived files first, then its partial file, then the source
 * server over the replication protocol for whatever the archive lacks. Every
 * event must start where the previous one ended, and every file must follow
 * the previous one: a gap is BINLOG_GAP naming what is missing, never a
 * silently shorter restore.
 */

import {
  type ArchiveIndex,
  decodeBatchesWithBytes,
  type EventWithBytes,
  findPartialFile,
  nextBinlogFile,
  type Repository,
  readArchivedFileBatches,
  readPartialFileBatches,
} from '../backup/index.js';
import { compareBinlogFiles, openReplicationStream, type RawEvent } from '../binlog/index.js';
import { SalvageError } from '../errors.js';
import { type ConnectTarget, describeTarget } from '../mysql/index.js';

export interface Coordinates {
  readonly file: string;
  readonly position: number;
}

export interface ChainSources {
  readonly repo: Repository;
  /** Key prefix of the server's archive in the repository. */
  readonly prefix: string;
  readonly index: ArchiveIndex | undefined;
  /** The live server, for what the archive lacks. */
  readonly source: ConnectTarget | undefined;
}

/** Which sources the chain read from (for the report). */
export interface ChainUsage {
  archivedFiles: number;
  fromSource: boolean;
}

/**
 * Decoded events (CRC32 verified, strict) from `start` to the end of what the
 * sources hold. Each file's FORMAT_DESCRIPTION comes first even when the
 * chain starts mid-file.
 */
export async function* readChain(
  sources: ChainSources,
  start: Coordinates,
  usage?: ChainUsage,
): AsyncGenerator<EventWithBytes> {
  for await (const batch of readChainBatches(sources, start, usage)) yield* batch;
}

/** readChain in batches: one await per batch, not per event (a chain holds millions of events). */
export function readChainBatches(
  sources: ChainSources,
  start: Coordinates,
  usage?: ChainUsage,
): AsyncGenerator<EventWithBytes[]> {
  return decodeBatchesWithBytes(checkContiguous(rawChain(sources, start, usage), start), {
    verify: true,
    strict: true,
  });
}

async function* rawChain(
  sources: ChainSources,
  start: Coordinates,
  usage?: ChainUsage,
): AsyncGenerator<RawEvent[]> {
  const { repo, prefix } = sources;
  const files = sources.index?.files ?? [];
  let file = start.file;
  let from = start.position;
  let readStart = false;
  let i = files.findIndex((f) => f.file === start.file);
  if (i < 0 && files.length > 0 && compareBinlogFiles(files[0]?.file ?? '', start.file) < 0) {
    // The archive starts earlier but has no such file: it may be the partial one.
    i = files.length;
  }
  for (; i >= 0 && i < files.length; i++) {
    const entry = files[i];
    if (entry === undefined || entry.file !== file) break;
    if ((await repo.storage.stat(`${prefix}${entry.file}`)) === undefined) break;
    yield* withFirstEvent(readArchivedFileBatches(repo, prefix, entry.file, 4), from);
    if (usage) usage.archivedFiles++;
    readStart = true;
    file = nextBinlogFile(entry.file);
    from = 4;
  }
  const partial = await findPartialFile(repo, prefix);
  if (partial !== undefined && partial.file === file) {
    if (partial.end > from) yield* withFirstEvent(readPartialFileBatches(repo, partial, 4), from);
    from = Math.max(from, partial.end);
    readStart = true;
  }
  if (sources.source === undefined) {
    if (!readStart) throw missing(start.file, sources);
    if (i >= 0 && i < files.length) throw missing(file, sources);
    return;
  }
  if (usage) usage.fromSource = true;
  try {
    yield* inBatches(
      openReplicationStream({
        server: sources.source,
        start: { kind: 'position', file, position: from },
        until: 'end',
      }),
    );
  } catch (error) {
    if (error instanceof SalvageError && error.code === 'BINLOG_NOT_ON_SERVER') throw missing(file, sources);
    throw error;
  }
}

/** The file's first event (its FORMAT_DESCRIPTION), then the events from `from` on. */
async function* withFirstEvent(batches: AsyncIterable<RawEvent[]>, from: number): AsyncGenerator<RawEvent[]> {
  for await (const batch of batches) {
    const kept = batch.filter((raw) => raw.position === 4 || raw.position >= from);
    if (kept.length > 0) yield kept;
  }
}

const STREAM_BATCH = 512;

/** Events read from the server one by one, passed on in batches. */
async function* inBatches(events: AsyncIterable<RawEvent>): AsyncGenerator<RawEvent[]> {
  let batch: RawEvent[] = [];
  try {
    for await (const raw of events) {
      batch.push(raw);
      if (batch.length >= STREAM_BATCH) {
        yield batch;
        batch = [];
      }
    }
  } finally {
    // What arrived before an error still goes on, then the error.
    if (batch.length > 0) yield batch;
  }
}

function missing(file: string, sources: ChainSources): SalvageError {
  const where = sources.source ? `the archive and ${describeTarget(sources.source)}` : 'the archive';
  return new SalvageError('BINLOG_GAP', `binlog ${file} is missing: neither ${where} has it`, {
    hint: sources.source
      ? 'Restore from a backup taken after that file, or find a copy of the file.'
      : 'Give --source to read it from the server, or restore from a backup taken after it.',
    context: { file },
  });
}

/** Every event starts where the previous ended; a new file follows the previous and starts at 4. */
async function* checkContiguous(
  batches: AsyncIterable<RawEvent[]>,
  start: Coordinates,
): AsyncGenerator<RawEvent[]> {
  let file = start.file;
  let next = start.position;
  for await (const batch of batches) {
    for (const [index, raw] of batch.entries()) {
      try {
        if (raw.file !== file) {
          const expected = nextBinlogFile(file);
          if (raw.file !== expected || raw.position !== 4) {
            throw new SalvageError(
              'BINLOG_GAP',
              `binlog ${expected} is missing: ${file} is followed by ${raw.file}:${raw.position}`,
              {
                context: { file: expected },
              },
            );
          }
          file = raw.file;
          next = 4;
        }
        // A file's FORMAT_DESCRIPTION comes again whenever reading resumes inside it.
        if (raw.position === 4 && next > 4) continue;
        if (raw.position !== next) {
          throw new SalvageError(
            'BINLOG_GAP',
            `${file} has a gap: the event at ${next} is missing (next one read is at ${raw.position})`,
            {
              context: { file, position: next },
            },
          );
        }
        next += raw.bytes.length;
      } catch (error) {
        // The events before the gap are whole: they go on, then the error.
        if (index > 0) yield batch.slice(0, index);
        throw error;
      }
    }
    yield batch;
  }
}

/** Events before `stop` (the whole chain when undefined); stops reading there. */
export async function* eventsBefore(
  events: AsyncIterable<EventWithBytes>,
  stop: Coordinates | undefined,
): AsyncGenerator<EventWithBytes> {
  for await (const item of events) {
    if (stop !== undefined && reached(item, stop)) return;
    yield item;
  }
}

/** eventsBefore for batches. */
export async function* eventBatchesBefore(
  batches: AsyncIterable<EventWithBytes[]>,
  stop: Coordinates | undefined,
): AsyncGenerator<EventWithBytes[]> {
  for await (const batch of batches) {
    const end = stop === undefined ? -1 : batch.findIndex((item) => reached(item, stop));
    if (end < 0) {
      yield batch;
      continue;
    }
    if (end > 0) yield batch.slice(0, end);
    return;
  }
}

function reached(item: EventWithBytes, stop: Coordinates): boolean {
  const h = item.event.header;
  return h.payloadOffset === undefined && !before(h, stop);
}

/** True when `a` comes before `b` in the server's binlog. */
export function before(a: Coordinates, b: Coordinates): boolean {
  const order = compareBinlogFiles(a.file, b.file);
  return order < 0 || (order === 0 && a.position < b.position);
}
