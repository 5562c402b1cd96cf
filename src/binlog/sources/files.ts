/**
 * Binlog files as a stream of RawEvents: a list of files or a directory (its
 * *.index when there is one, else the binlogs sorted by name), read in
 * chunks with bounded memory. A file still being written ends in a partial
 * event: reading stops at the last whole event and says so.
 */
import { type FileHandle, open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { SalvageError } from '../../errors.js';
import { EVENT_HEADER_LENGTH } from '../events/header.js';
import { compareBinlogFiles } from '../file-names.js';
import type { RawEvent } from '../types.js';

/** The 4 bytes every binlog starts with. */
export const BINLOG_MAGIC = Buffer.from([0xfe, 0x62, 0x69, 0x6e]);
const DEFAULT_CHUNK = 1024 * 1024;
/**
 * Events per batch. Small batches let a batch's events and what is decoded
 * from them die before the next young-generation collection; a whole chunk
 * (thousands of events) survived it and was copied, which cost a third of
 * the CPU time of a timeline.
 */
const BATCH_EVENTS = 64;
/** MySQL and MariaDB cap events at 1 GiB (max_allowed_packet / slave_max_allowed_packet). */
const MAX_EVENT_LENGTH = 1024 * 1024 * 1024;

/** Something worth telling the user that does not stop reading. */
export type BinlogNotice =
  | {
      readonly kind: 'truncated';
      readonly file: string;
      /** Offset of the partial event: everything before it was read. */
      readonly position: number;
      readonly missingBytes: number;
    }
  | {
      readonly kind: 'unknown-event';
      readonly file: string;
      readonly position: number;
      readonly type: number;
    }
  | {
      /** A table whose column names (or signedness, charsets) neither the binlog nor the server gave. */
      readonly kind: 'column-facts-missing';
      readonly file: string;
      readonly position: number;
      readonly table: string;
      readonly reason: string;
    };

export interface FileSourceOptions {
  /** Bytes read per call (default 1 MiB). */
  readonly chunkSize?: number;
  /** Told about a truncated last event; default: silent. */
  readonly onNotice?: (notice: BinlogNotice) => void;
}

/** Which files to read: explicit paths, or a directory holding binlogs. */
export type FileSelection = { readonly files: readonly string[] } | { readonly dir: string };

/**
 * The files of a selection in reading order. A gap in the numbered sequence
 * (mysql-bin.000007 then .000009) or a file the index names but that is
 * missing is a BINLOG_GAP error naming the missing file.
 */
export async function resolveBinlogFiles(selection: FileSelection): Promise<string[]> {
  const files =
    'dir' in selection ? await filesOfDirectory(selection.dir) : selection.files.map((f) => resolve(f));
  for (const file of files) {
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) {
      throw new SalvageError(
        'dir' in selection ? 'BINLOG_GAP' : 'FILE_NOT_FOUND',
        'dir' in selection
          ? `the index lists ${basename(file)}, which is not in ${dirname(file)}`
          : `no such file: ${file}`,
        { context: { file } },
      );
    }
  }
  checkSequence(files);
  return files;
}

async function filesOfDirectory(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    throw new SalvageError('FILE_NOT_FOUND', `cannot read directory ${dir}: ${error.code ?? error.message}`);
  });
  const index = names.filter((n) => n.endsWith('.index')).sort();
  if (index.length > 1) {
    throw new SalvageError('BAD_INPUT', `${dir} holds several index files (${index.join(', ')})`, {
      hint: 'Give the binlog files explicitly instead of --dir.',
    });
  }
  if (index[0] !== undefined) {
    const text = await readFile(join(dir, index[0]), 'utf8');
    return (
      text
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line.length > 0)
        // Index entries are relative to the server's datadir (./mysql-bin.000001) or absolute; the files are here.
        .map((line) => join(dir, isAbsolute(line) ? basename(line) : line))
    );
  }
  const numbered = names.filter((n) => /\.\d+$/.test(n)).sort(compareBinlogFiles);
  const binlogs: string[] = [];
  for (const name of numbered) {
    if (await startsWithMagic(join(dir, name))) binlogs.push(join(dir, name));
  }
  if (binlogs.length === 0) {
    throw new SalvageError(
      'FILE_NOT_FOUND',
      `no binary log files (name.NNNNNN starting with the binlog magic) in ${dir}`,
    );
  }
  return binlogs;
}

async function startsWithMagic(path: string): Promise<boolean> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return false;
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && head.equals(BINLOG_MAGIC);
  } finally {
    await handle.close();
  }
}

/** Files of one base name must be consecutive: a hole means lost transactions. */
function checkSequence(files: readonly string[]): void {
  const last = new Map<string, { n: number; width: number; file: string }>();
  for (const file of files) {
    const m = /^(.*)\.(\d+)$/.exec(basename(file));
    if (!m) continue;
    const stem = `${dirname(file)}/${m[1]}`;
    const n = Number(m[2]);
    const previous = last.get(stem);
    if (previous && n !== previous.n + 1 && n > previous.n) {
      const missing = `${m[1]}.${String(previous.n + 1).padStart(previous.width, '0')}`;
      throw new SalvageError(
        'BINLOG_GAP',
        `binlog ${missing} is missing between ${basename(previous.file)} and ${basename(file)}`,
        { context: { file: missing } },
      );
    }
    last.set(stem, { n, width: (m[2] as string).length, file });
  }
}

/** Every event of the selected files, in order. */
export async function* readBinlogFiles(
  selection: FileSelection,
  options: FileSourceOptions = {},
): AsyncGenerator<RawEvent> {
  for await (const batch of readBinlogFilesBatches(selection, options)) yield* batch;
}

/** The events of the selected files in batches (up to BATCH_EVENTS of one chunk read), in order. */
export async function* readBinlogFilesBatches(
  selection: FileSelection,
  options: FileSourceOptions = {},
): AsyncGenerator<RawEvent[]> {
  for (const file of await resolveBinlogFiles(selection)) yield* readBinlogFileBatches(file, options);
}

/**
 * The events of one binlog file. Breaking out of `for await` closes the file.
 * Each event's bytes are a view into one read buffer that is reused: they are
 * valid until the next event is requested (copy them to keep them). That
 * keeps memory flat and spares the page faults of a fresh buffer per chunk.
 */
export async function* readBinlogFile(
  path: string,
  options: FileSourceOptions = {},
): AsyncGenerator<RawEvent> {
  for await (const batch of readBinlogFileBatches(path, options)) yield* batch;
}

/**
 * The events of one binlog file in batches of up to BATCH_EVENTS from one
 * chunk read. A batch's bytes stay valid until the next batch is requested.
 */
export async function* readBinlogFileBatches(
  path: string,
  options: FileSourceOptions = {},
): AsyncGenerator<RawEvent[]> {
  for await (const chunk of readBinlogFileChunks(path, options)) {
    const { buffer, file } = chunk;
    let batch: RawEvent[] = [];
    let position = chunk.position;
    for (let at = chunk.start; at < chunk.end; ) {
      const length = buffer.readUInt32LE(at + 9);
      batch.push({ file, position, bytes: buffer.subarray(at, at + length) });
      at += length;
      position += length;
      if (batch.length >= BATCH_EVENTS) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }
}

/**
 * Whole events of one binlog file, in place: `buffer[start..end)` holds the
 * events from file offset `position` on, each starting with its 19-byte
 * header (the event length at +9). Valid until the next chunk is requested.
 */
export interface EventChunk {
  /** The file's base name. */
  readonly file: string;
  readonly buffer: Buffer;
  readonly start: number;
  readonly end: number;
  readonly position: number;
  /** Bytes between one event and the next in `buffer`: a server's packet framing (see openReplicationChunks); none in a file. */
  readonly gap?: number;
}

export interface ChunkOptions extends FileSourceOptions {
  /**
   * Start at this event offset instead of the second event: the file's
   * FORMAT_DESCRIPTION (its first event, which governs how the rest decodes)
   * still comes first, as a chunk of its own.
   */
  readonly from?: number;
}

/**
 * The events of one binlog file in chunks of whole events, each event's
 * header checked before it is handed out. The next chunk is read while the
 * caller works on this one. Breaking out of `for await` closes the file.
 */
export async function* readBinlogFileChunks(
  path: string,
  options: ChunkOptions = {},
): AsyncGenerator<EventChunk> {
  const chunkSize = Math.max(options.chunkSize ?? DEFAULT_CHUNK, EVENT_HEADER_LENGTH);
  const file = basename(path);
  const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new SalvageError('FILE_NOT_FOUND', `cannot open ${path}: ${error.code ?? error.message}`, {
      context: { file },
    });
  });
  // A read still in flight when the caller stops must finish before the file closes.
  let reading: Promise<number> | undefined;
  try {
    const size = (await handle.stat()).size;
    const magic = Buffer.alloc(4);
    const { bytesRead } = await handle.read(magic, 0, 4, 0);
    if (bytesRead < 4 || !magic.equals(BINLOG_MAGIC)) {
      throw new SalvageError(
        'NOT_A_BINLOG',
        `${path} is not a binary log: it does not start with fe 62 69 6e`,
        {
          context: { file },
        },
      );
    }
    let position = 4;
    if (options.from !== undefined && options.from > 4) {
      const first = await readFirstEvent(handle, file, size, options);
      if (first === undefined) return;
      yield first;
      if (options.from > size) {
        throw new SalvageError(
          'BAD_INPUT',
          `${file} has ${size} bytes: offset ${options.from} is past its end`,
          {
            context: { file, position: options.from },
          },
        );
      }
      position = options.from;
    }
    const bufferSize = (need: number): number => Math.max(need, Math.min(chunkSize, size - position));
    let buffer = Buffer.allocUnsafe(bufferSize(EVENT_HEADER_LENGTH));
    let spare = Buffer.allocUnsafe(buffer.length);
    // buffer[0..carried) holds bytes of the file from `position` already read.
    let carried = 0;
    let next = readInto(handle, buffer, 0, position, size);
    reading = next;
    while (true) {
      const filled = carried + (await next);
      reading = undefined;
      const scan = wholeEvents(buffer, filled, position, size, file);
      const eof = position + filled >= size;
      if (!eof && scan.failure === undefined) {
        const rest = filled - scan.end;
        const claimed = rest >= EVENT_HEADER_LENGTH ? buffer.readUInt32LE(scan.end + 9) : EVENT_HEADER_LENGTH;
        // An event cut short by the end of the file never needs more room than the file has left.
        const need = Math.min(claimed, size - position - scan.end);
        // Grow for an event larger than a chunk; shrink back once such events are past.
        if (spare.length < need || (spare.length > chunkSize && need <= chunkSize)) {
          spare = Buffer.allocUnsafe(Math.max(need, chunkSize));
        }
        buffer.copy(spare, 0, scan.end, filled);
        carried = rest;
        next = readInto(handle, spare, rest, position + filled, size);
        reading = next;
      }
      if (scan.end > 0) yield { file, buffer, start: 0, end: scan.end, position };
      if (scan.failure !== undefined) throw scan.failure;
      if (eof) {
        if (scan.end < filled)
          reportPartial(buffer, scan.end, filled, position + scan.end, size, file, options);
        return;
      }
      position += scan.end;
      [buffer, spare] = [spare, buffer];
    }
  } finally {
    await reading?.catch(() => undefined);
    await handle.close();
  }
}

/** The FORMAT_DESCRIPTION (the event at offset 4) as a chunk of its own. */
async function readFirstEvent(
  handle: FileHandle,
  file: string,
  size: number,
  options: FileSourceOptions,
): Promise<EventChunk | undefined> {
  const header = Buffer.allocUnsafe(EVENT_HEADER_LENGTH);
  const got = await readInto(handle, header, 0, 4, size);
  if (got < EVENT_HEADER_LENGTH) {
    reportPartial(header, 0, got, 4, size, file, options);
    return undefined;
  }
  const checked = wholeEvents(header, got, 4, size, file);
  if (checked.failure !== undefined) throw checked.failure;
  const length = header.readUInt32LE(9);
  const buffer = Buffer.allocUnsafe(Math.min(length, size - 4));
  const filled = await readInto(handle, buffer, 0, 4, size);
  const scan = wholeEvents(buffer, Math.min(filled, length), 4, size, file);
  if (scan.failure !== undefined) throw scan.failure;
  if (scan.end === 0) {
    reportPartial(buffer, 0, filled, 4, size, file, options);
    return undefined;
  }
  return { file, buffer, start: 0, end: scan.end, position: 4 };
}

/**
 * How far `buffer[0..filled)` (the file from `position`) holds whole events,
 * and the error that stops it there when an event's header is impossible.
 */
function wholeEvents(
  buffer: Buffer,
  filled: number,
  position: number,
  size: number,
  file: string,
): { end: number; failure?: SalvageError } {
  let at = 0;
  while (filled - at >= EVENT_HEADER_LENGTH) {
    const length = buffer.readUInt32LE(at + 9);
    if (length < EVENT_HEADER_LENGTH || length > MAX_EVENT_LENGTH) {
      const where = position + at;
      return {
        end: at,
        failure: new SalvageError(
          'BINLOG_CORRUPT',
          `event at ${file}:${where} has an impossible length ${length}`,
          {
            context: { file, position: where },
          },
        ),
      };
    }
    if (position + at + length > size) {
      const where = position + at;
      const nextPosition = buffer.readUInt32LE(at + 13);
      // A file still being written ends in a partial event whose header is consistent with its place.
      if (nextPosition === where + length || nextPosition === 0) return { end: at };
      return {
        end: at,
        failure: new SalvageError(
          'BINLOG_CORRUPT',
          `event at ${file}:${where} claims ${length} bytes but the file ends ${size - where} bytes later`,
          { context: { file, position: where } },
        ),
      };
    }
    if (at + length > filled) break;
    at += length;
  }
  return { end: at };
}

/** The file ends inside an event: everything before it was read, and the caller is told. */
function reportPartial(
  buffer: Buffer,
  at: number,
  filled: number,
  position: number,
  size: number,
  file: string,
  options: FileSourceOptions,
): void {
  const available = filled - at;
  const missingBytes =
    available < EVENT_HEADER_LENGTH
      ? EVENT_HEADER_LENGTH - available
      : position + buffer.readUInt32LE(at + 9) - size;
  options.onNotice?.({ kind: 'truncated', file, position, missingBytes });
}

/** Reads into `buffer` from `offset` until it is full or the file ends; the number of bytes read. */
async function readInto(
  handle: FileHandle,
  buffer: Buffer,
  offset: number,
  filePos: number,
  size: number,
): Promise<number> {
  let total = 0;
  while (offset + total < buffer.length && filePos + total < size) {
    const { bytesRead } = await handle.read(
      buffer,
      offset + total,
      Math.min(buffer.length - offset - total, size - filePos - total),
      filePos + total,
    );
    if (bytesRead === 0) break;
    total += bytesRead;
  }
  return total;
}
