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
import type { RawEvent } from '../types.js';

/** The 4 bytes every binlog starts with. */
export const BINLOG_MAGIC = Buffer.from([0xfe, 0x62, 0x69, 0x6e]);
const DEFAULT_CHUNK = 1024 * 1024;
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
  const numbered = names.filter((n) => /\.\d+$/.test(n)).sort();
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
  for (const file of await resolveBinlogFiles(selection)) yield* readBinlogFile(file, options);
}

/**
 * The events of one binlog file. Breaking out of `for await` closes the file.
 * Each event's bytes are a view into a chunk buffer that is never reused, so
 * consumers may keep events; memory stays bounded when they do not.
 */
export async function* readBinlogFile(
  path: string,
  options: FileSourceOptions = {},
): AsyncGenerator<RawEvent> {
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
    let chunk: Buffer = Buffer.alloc(0);
    let chunkStart = 4; // file offset of chunk[0]
    let offset = 0; // next event's offset within chunk
    let position = 4;
    while (position < size) {
      // Make sure the whole header, then the whole event, is in the chunk.
      let available = chunk.length - offset;
      if (available < EVENT_HEADER_LENGTH) {
        ({ chunk, chunkStart, offset } = await refill(handle, chunk, chunkStart, offset, chunkSize, size));
        available = chunk.length - offset;
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
      const length = chunk.readUInt32LE(offset + 9);
      if (length < EVENT_HEADER_LENGTH || length > MAX_EVENT_LENGTH) {
        throw new SalvageError(
          'BINLOG_CORRUPT',
          `event at ${file}:${position} has an impossible length ${length}`,
          {
            context: { file, position },
          },
        );
      }
      if (available < length) {
        if (position + length > size) {
          const nextPosition = chunk.readUInt32LE(offset + 13);
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
        ({ chunk, chunkStart, offset } = await refill(
          handle,
          chunk,
          chunkStart,
          offset,
          Math.max(chunkSize, length),
          size,
        ));
      }
      yield { file, position, bytes: chunk.subarray(offset, offset + length) };
      offset += length;
      position += length;
    }
  } finally {
    await handle.close();
  }
}

/**
 * A new chunk holding the unread tail of the old one plus at least `want`
 * more bytes (when the file has them). Always a fresh buffer: yielded events
 * keep pointing into the old one.
 */
async function refill(
  handle: FileHandle,
  chunk: Buffer,
  chunkStart: number,
  offset: number,
  want: number,
  size: number,
): Promise<{ chunk: Buffer; chunkStart: number; offset: number }> {
  const tail = chunk.length - offset;
  const start = chunkStart + offset;
  const toRead = Math.min(Math.max(want, tail), size - start) - tail;
  const next = Buffer.allocUnsafe(tail + Math.max(toRead, 0));
  chunk.copy(next, 0, offset);
  let filled = tail;
  while (filled < next.length) {
    const { bytesRead } = await handle.read(next, filled, next.length - filled, start + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return { chunk: next.subarray(0, filled), chunkStart: start, offset: 0 };
}
