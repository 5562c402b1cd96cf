/**
 * The layout of a server's binlog archive in a repository:
 *
 *   binlogs/<server key>/index.json                 the archived files, in order (written last)
 *   binlogs/<server key>/<file>                     a complete binlog, byte-identical to the server's
 *   binlogs/<server key>/<file>.partial/<offset>    the file being archived: runs of whole
 *                                                   transactions, named by their first event's offset
 *
 * A complete file counts only once the index lists it; partial runs only ever
 * end at a transaction boundary, so resuming never splits or repeats one.
 */
import { Readable } from 'node:stream';
import { z } from 'zod';
import { compareBinlogFiles, type RawEvent } from '../binlog/index.js';
import { SalvageError } from '../errors.js';
import { splitRawEventBatches } from './archive-events.js';
import { ServerIdentitySchema } from './manifest.js';
import type { Repository } from './repository.js';
import { readJson, writeJson } from './storage.js';

export const ArchivedFileSchema = z.object({
  file: z.string(),
  /** Bytes, magic included: the file's end offset. */
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** The server's GTID state before the file (MariaDB GTID_LIST, MySQL PREVIOUS_GTIDS); null when absent. */
  gtidsBefore: z.string().nullable(),
  firstGtid: z.string().nullable(),
  lastGtid: z.string().nullable(),
  /** Epoch seconds of the first and last transaction. */
  firstTs: z.number().nullable(),
  lastTs: z.number().nullable(),
  transactions: z.number().int().nonnegative(),
  archivedAt: z.string(),
});
export type ArchivedFile = z.infer<typeof ArchivedFileSchema>;

export const ArchiveIndexSchema = z.object({
  format: z.literal(1),
  server: ServerIdentitySchema,
  files: z.array(ArchivedFileSchema),
});
export type ArchiveIndex = z.infer<typeof ArchiveIndexSchema>;

/** One stored run of the partial file. */
export interface PartialRun {
  readonly key: string;
  readonly offset: number;
  readonly size: number;
}

/** The file being archived: its runs, contiguous from offset 4. */
export interface PartialFile {
  readonly file: string;
  readonly runs: readonly PartialRun[];
  /** Offset just past the last stored run. */
  readonly end: number;
}

const INDEX = 'index.json';
const PARTIAL = '.partial/';

export function partialRunKey(prefix: string, file: string, offset: number): string {
  return `${prefix}${file}${PARTIAL}${String(offset).padStart(12, '0')}`;
}

/** The archive index under `prefix`, or undefined when nothing was archived there yet. */
export async function readArchiveIndex(repo: Repository, prefix: string): Promise<ArchiveIndex | undefined> {
  const value = await readJson(repo.storage, `${prefix}${INDEX}`);
  if (value === undefined) return undefined;
  const parsed = ArchiveIndexSchema.safeParse(value);
  if (!parsed.success) {
    throw new SalvageError(
      'BACKUP_CHECKSUM',
      `The binlog archive index ${repo.url}/${prefix}${INDEX} is not valid.`,
      {
        hint: 'Move the damaged index aside; `salvage binlog archive` rebuilds the archive from the server.',
        context: { file: `${prefix}${INDEX}` },
      },
    );
  }
  return parsed.data;
}

export async function writeArchiveIndex(
  repo: Repository,
  prefix: string,
  index: ArchiveIndex,
): Promise<void> {
  await writeJson(repo.storage, `${prefix}${INDEX}`, index);
}

/**
 * The partial file under `prefix` (the newest one when a crash left several),
 * or undefined. Runs that do not continue where the previous one ended come
 * from an interrupted write of a later run and are dropped.
 */
export async function findPartialFile(repo: Repository, prefix: string): Promise<PartialFile | undefined> {
  const names = (await repo.storage.listChildren(prefix)).filter((n) => n.endsWith('.partial'));
  const file = names
    .map((n) => n.slice(0, -'.partial'.length))
    .sort(compareBinlogFiles)
    .at(-1);
  if (file === undefined) return undefined;
  const objects = await repo.storage.list(`${prefix}${file}${PARTIAL}`);
  const runs: PartialRun[] = [];
  let end = 4;
  for (const object of objects) {
    const offset = Number(object.key.slice(object.key.lastIndexOf('/') + 1));
    if (offset !== end) break;
    runs.push({ key: object.key, offset, size: object.size });
    end += object.size;
  }
  return { file, runs, end };
}

export async function removePartialFile(repo: Repository, prefix: string, file: string): Promise<void> {
  await repo.storage.deletePrefix(`${prefix}${file}${PARTIAL}`);
}

/** The events of an archived complete file, from offset `from` (its magic and earlier events are read and dropped). */
export async function* readArchivedFile(
  repo: Repository,
  prefix: string,
  file: string,
  from = 4,
): AsyncGenerator<RawEvent> {
  for await (const batch of readArchivedFileBatches(repo, prefix, file, from)) yield* batch;
}

/** readArchivedFile in batches (one per chunk read). */
export async function* readArchivedFileBatches(
  repo: Repository,
  prefix: string,
  file: string,
  from = 4,
): AsyncGenerator<RawEvent[]> {
  yield* eventsFrom(splitRawEventBatches(await repo.storage.get(`${prefix}${file}`), file, 0), from);
}

/** The events of a partial file's runs, in order. */
export async function* readPartialFile(
  repo: Repository,
  partial: PartialFile,
  from = 4,
): AsyncGenerator<RawEvent> {
  for await (const batch of readPartialFileBatches(repo, partial, from)) yield* batch;
}

/** readPartialFile in batches. */
export async function* readPartialFileBatches(
  repo: Repository,
  partial: PartialFile,
  from = 4,
): AsyncGenerator<RawEvent[]> {
  for (const run of partial.runs) {
    if (run.offset + run.size <= from) continue;
    yield* eventsFrom(splitRawEventBatches(await repo.storage.get(run.key), partial.file, run.offset), from);
  }
}

async function* eventsFrom(batches: AsyncIterable<RawEvent[]>, from: number): AsyncGenerator<RawEvent[]> {
  for await (const batch of batches) {
    const kept =
      batch[0] !== undefined && batch[0].position >= from ? batch : batch.filter((e) => e.position >= from);
    if (kept.length > 0) yield kept;
  }
}

/** A readable of the runs' bytes in order, for assembling the complete file. */
export function partialBytes(repo: Repository, partial: PartialFile): Readable {
  return Readable.from(
    (async function* () {
      for (const run of partial.runs) yield* await repo.storage.get(run.key);
    })(),
  );
}

/** The file that follows `file` in the server's numbering (`bin.000009` → `bin.000010`). */
export function nextBinlogFile(file: string): string {
  const dot = file.lastIndexOf('.');
  const digits = file.slice(dot + 1);
  const next = String(Number(digits) + 1).padStart(digits.length, '0');
  return `${file.slice(0, dot)}.${next}`;
}
