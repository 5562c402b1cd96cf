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
  const chunkSize = Math.max(options.chunkSize ?? DEFAULT_CHUNK, EVENT_HEADER_LENGTH);
  const file = basename(path);
  const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new SalvageError('FILE_NOT_FOUND', `cannot open ${path}: ${error.code ?? error.message}`, {
      context: { file },
    });
  });
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
    const window: ReadWindow = {
      buffer: Buffer.allocUnsafe(Math.min(chunkSize, Math.max(size, EVENT_HEADER_LENGTH))),
      start: 0,
      end: 0,
      filePos: 4,
    };
    let batch: RawEvent[] = [];
    let position = 4;
    while (position < size) {
      // Make sure the whole header, then the whole event, is in the window;
      // refilling moves bytes, so the batch so far goes out first.
      if (window.end - window.start < EVENT_HEADER_LENGTH) {
        if (batch.length > 0) yield batch;
        batch = [];
        await fill(handle, window, EVENT_HEADER_LENGTH, size, chunkSize);
        const available = window.end - window.start;
        if (available < EVENT_HEADER_LENGTH) {
          options.onNotice?.({
            kind: 'truncated',
            file,
            position,
            missingBytes: EVENT_HEADER_LENGTH - available,
          });
          return;
        }
      }
      const at = window.start;
      const length = window.buffer.readUInt32LE(at + 9);
      if (length < EVENT_HEADER_LENGTH || length > MAX_EVENT_LENGTH) {
        if (batch.length > 0) yield batch;
        throw new SalvageError(
          'BINLOG_CORRUPT',
          `event at ${file}:${position} has an impossible length ${length}`,
          {
            context: { file, position },
          },
        );
      }
      if (position + length > size) {
        if (batch.length > 0) yield batch;
        batch = [];
        const nextPosition = window.buffer.readUInt32LE(at + 13);
        // A file still being written ends in a partial event whose header is consistent with its place.
        if (nextPosition === position + length || nextPosition === 0) {
          options.onNotice?.({ kind: 'truncated', file, position, missingBytes: position + length - size });
          return;
        }
        throw new SalvageError(
          'BINLOG_CORRUPT',
          `event at ${file}:${position} claims ${length} bytes but the file ends ${size - position} bytes later`,
          { context: { file, position } },
        );
      }
      if (window.end - window.start < length) {
        if (batch.length > 0) yield batch;
        batch = [];
        await fill(handle, window, length, size, chunkSize);
      }
      batch.push({ file, position, bytes: window.buffer.subarray(window.start, window.start + length) });
      window.start += length;
      position += length;
      if (batch.length >= BATCH_EVENTS) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  } finally {
    await handle.close();
  }
}

/** The unread bytes of a file held in a reused buffer: `buffer[start..end)` is the file from `filePos`. */
interface ReadWindow {
  buffer: Buffer;
  start: number;
  end: number;
  /** File offset of `buffer[end]`: where the next read continues. */
  filePos: number;
}

/**
 * Moves the unread bytes to the front of the buffer (growing it for an event
 * larger than a chunk) and reads until `need` bytes are there or the file ends.
 */
async function fill(
  handle: FileHandle,
  w: ReadWindow,
  need: number,
  size: number,
  chunk: number,
): Promise<void> {
  const unread = w.end - w.start;
  // Grow for an event larger than a chunk; shrink back once such events are past.
  const wanted = Math.max(need, chunk);
  if (need > w.buffer.length || (w.buffer.length > chunk && wanted === chunk && unread <= chunk)) {
    const next = Buffer.allocUnsafe(Math.max(wanted, unread));
    w.buffer.copy(next, 0, w.start, w.end);
    w.buffer = next;
  } else if (w.start > 0) {
    w.buffer.copyWithin(0, w.start, w.end);
  }
  w.start = 0;
  w.end = unread;
  while (w.end < w.buffer.length && w.filePos < size) {
    const { bytesRead } = await handle.read(
      w.buffer,
      w.end,
      Math.min(w.buffer.length - w.end, size - w.filePos),
      w.filePos,
    );
    if (bytesRead === 0) break;
    w.end += bytesRead;
    w.filePos += bytesRead;
  }
}
