/**
 * `salvage binlog archive`: copies a server's binary logs into a repository
 * over the replication protocol, so point-in-time recovery needs neither
 * file access to the server nor the server itself.
 *
 * Completed files are stored whole and byte-identical to the server's
 * (magic, then every event at its offset). The file still being written is
 * stored as runs of whole transactions; a new run resumes exactly where the
 * last stored one ends, so no event is archived twice and a killed archiver
 * loses at most the transactions it had not stored yet.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  BINLOG_MAGIC,
  type BinlogEvent,
  compareBinlogFiles,
  openReplicationStream,
  type ReplicationStart,
  TransactionAssembler,
} from '../binlog/index.js';
import { SalvageError } from '../errors.js';
import {
  type ConnectTarget,
  readServerIdentity,
  type ServerIdentity,
  withConnection,
} from '../mysql/index.js';
import { decodeWithBytes } from './archive-events.js';
import {
  type ArchivedFile,
  type ArchiveIndex,
  findPartialFile,
  nextBinlogFile,
  type PartialFile,
  partialBytes,
  partialRunKey,
  readArchiveIndex,
  readPartialFile,
  removePartialFile,
  writeArchiveIndex,
} from './archive-index.js';
import { binlogArchivePrefix, openRepository, type Repository, withRepositoryLock } from './repository.js';

export interface ArchiveOptions {
  readonly source: ConnectTarget;
  /** Repository URL or an opened repository; created when missing. */
  readonly repo: string | Repository;
  /** Keep archiving new events until `signal` aborts (default: stop at the current end). */
  readonly follow?: boolean;
  readonly signal?: AbortSignal;
  /** Bytes of whole transactions gathered before a run is stored. Default 8 MiB. */
  readonly runBytes?: number;
  /** Follow mode: store gathered transactions at least this often. Default 1000 ms. */
  readonly flushMs?: number;
  readonly onProgress?: (progress: ArchiveProgress) => void;
}

export type ArchiveProgress =
  | { readonly kind: 'resume'; readonly file: string; readonly position: number }
  | { readonly kind: 'file-complete'; readonly file: ArchivedFile }
  | { readonly kind: 'stored'; readonly file: string; readonly end: number };

export interface ArchiveResult {
  readonly server: ServerIdentity;
  /** Repository key prefix of this server's archive. */
  readonly prefix: string;
  /** Where this run started: undefined when it started from the server's oldest binlog. */
  readonly resumedFrom: { readonly file: string; readonly position: number } | undefined;
  /** Files completed by this run. */
  readonly completed: readonly ArchivedFile[];
  /** The file still being written and how much of it is archived. */
  readonly partial: { readonly file: string; readonly end: number } | undefined;
  /** Events and bytes stored by this run. */
  readonly events: number;
  readonly bytes: number;
}

/** What the index records about a file, gathered as its events pass. */
interface FileSummary {
  gtidsBefore: string | null;
  firstGtid: string | null;
  lastGtid: string | null;
  firstTs: number | null;
  lastTs: number | null;
  transactions: number;
  readonly assembler: TransactionAssembler;
}

/** The file being archived now. */
interface OpenFile {
  readonly name: string;
  /** Runs already stored (from an earlier run or this one). */
  stored: PartialFile;
  /** Bytes received after the stored runs; the first `committed` of them end at a transaction boundary. */
  pending: Buffer[];
  pendingBytes: number;
  pendingEvents: number;
  committed: number;
  committedEvents: number;
  /** Offset the next event must start at. */
  next: number;
  readonly summary: FileSummary;
  /** A ROTATE or STOP was read: the server writes no more to this file. */
  finished: boolean;
}

/**
 * Archives the binary logs of `source` into `repo` under
 * `binlogs/<server key>/` (see archive-index.ts for the layout). Every event's
 * CRC32 is verified before it is stored.
 */
export async function archiveBinlogs(options: ArchiveOptions): Promise<ArchiveResult> {
  const repo =
    typeof options.repo === 'string' ? await openRepository(options.repo, { create: true }) : options.repo;
  const server = await withConnection(options.source, readServerIdentity);
  const prefix = binlogArchivePrefix(server);
  // Two archivers of one server would both append to its partial file.
  const lock = `archive-${prefix.split('/')[1]}`;
  return withRepositoryLock(repo, lock, () => archiveLocked(options, repo, server, prefix));
}

async function archiveLocked(
  options: ArchiveOptions,
  repo: Repository,
  server: ServerIdentity,
  prefix: string,
): Promise<ArchiveResult> {
  let index: ArchiveIndex = (await readArchiveIndex(repo, prefix)) ?? { format: 1, server, files: [] };
  const runBytes = options.runBytes ?? 8 * 1024 * 1024;
  const flushMs = options.flushMs ?? 1000;
  const completed: ArchivedFile[] = [];
  let events = 0;
  let bytes = 0;

  const lastComplete = index.files.at(-1);
  let partial = await findPartialFile(repo, prefix);
  if (partial && lastComplete && compareBinlogFiles(partial.file, lastComplete.file) <= 0) {
    // Left by a crash after the complete file was indexed.
    await removePartialFile(repo, prefix, partial.file);
    partial = undefined;
  }
  let start: ReplicationStart = { kind: 'first' };
  if (partial) start = { kind: 'position', file: partial.file, position: partial.end };
  else if (lastComplete) start = { kind: 'position', file: lastComplete.file, position: lastComplete.size };
  const resumedFrom =
    start.kind === 'position' ? { file: start.file, position: start.position ?? 4 } : undefined;
  if (resumedFrom) options.onProgress?.({ kind: 'resume', ...resumedFrom });

  let open: OpenFile | undefined = partial ? await reopen(repo, partial) : undefined;
  let lastFlush = Date.now();

  const storeCommitted = async (file: OpenFile): Promise<void> => {
    if (file.committed === 0) return;
    const all = Buffer.concat(file.pending, file.pendingBytes);
    const run = all.subarray(0, file.committed);
    const key = partialRunKey(prefix, file.name, file.stored.end);
    await repo.storage.put(key, Readable.from([run]));
    file.stored = {
      file: file.name,
      runs: [...file.stored.runs, { key, offset: file.stored.end, size: run.length }],
      end: file.stored.end + run.length,
    };
    bytes += run.length;
    events += file.committedEvents;
    const rest = all.subarray(file.committed);
    file.pending = rest.length > 0 ? [Buffer.from(rest)] : [];
    file.pendingBytes = rest.length;
    file.pendingEvents -= file.committedEvents;
    file.committed = 0;
    file.committedEvents = 0;
    lastFlush = Date.now();
    options.onProgress?.({ kind: 'stored', file: file.name, end: file.stored.end });
  };

  const complete = async (file: OpenFile): Promise<void> => {
    // Whatever was received belongs to the file: the server will not write to it again.
    file.committed = file.pendingBytes;
    file.committedEvents = file.pendingEvents;
    await storeCommitted(file);
    const hash = createHash('sha256');
    let size = 0;
    const body = Readable.from(
      (async function* () {
        for await (const chunk of chain(BINLOG_MAGIC, partialBytes(repo, file.stored))) {
          hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      })(),
    );
    await repo.storage.put(`${prefix}${file.name}`, body);
    const s = file.summary;
    const entry: ArchivedFile = {
      file: file.name,
      size,
      sha256: hash.digest('hex'),
      gtidsBefore: s.gtidsBefore,
      firstGtid: s.firstGtid,
      lastGtid: s.lastGtid,
      firstTs: s.firstTs,
      lastTs: s.lastTs,
      transactions: s.transactions,
      archivedAt: new Date().toISOString(),
    };
    index = { ...index, files: [...index.files, entry] };
    // The index is the commit point of a complete file; the runs go only after it.
    await writeArchiveIndex(repo, prefix, index);
    await removePartialFile(repo, prefix, file.name);
    completed.push(entry);
    options.onProgress?.({ kind: 'file-complete', file: entry });
  };

  const stream = openReplicationStream({
    server: options.source,
    start,
    until: options.follow ? 'follow' : 'end',
  });
  try {
    for await (const { raw, event } of decodeWithBytes(stream, { verify: true })) {
      if (event.header.payloadOffset !== undefined) {
        if (open) summarize(open.summary, event);
        continue;
      }
      if (open === undefined || raw.file !== open.name) {
        if (open && !open.finished) await complete(open);
        const expected = open
          ? nextBinlogFile(open.name)
          : lastComplete
            ? nextBinlogFile(lastComplete.file)
            : undefined;
        if (open === undefined && lastComplete && raw.file === lastComplete.file) continue; // the resent FDE of a complete file
        if (expected !== undefined && raw.file !== expected) {
          throw new SalvageError(
            'BINLOG_GAP',
            `${describe(server)} continues with ${raw.file} after ${open?.name ?? lastComplete?.file}: ${expected} is missing on the server`,
            {
              context: { file: expected },
              hint: 'The missing binlog was purged before it was archived; take a new backup so restores do not need it.',
            },
          );
        }
        open = newFile(raw.file);
      }
      if (raw.position < open.next) continue; // the FDE a server resends before a mid-file start
      if (raw.position > open.next) {
        throw new SalvageError(
          'BINLOG_GAP',
          `the stream jumped from ${raw.file}:${open.next} to ${raw.position}`,
          {
            context: { file: raw.file, position: open.next },
          },
        );
      }
      open.pending.push(raw.bytes);
      open.pendingBytes += raw.bytes.length;
      open.pendingEvents++;
      open.next += raw.bytes.length;
      summarize(open.summary, event);
      if (open.summary.assembler.current === undefined) {
        open.committed = open.pendingBytes;
        open.committedEvents = open.pendingEvents;
      }
      if (event.kind === 'stop' || (event.kind === 'rotate' && !event.artificial)) {
        open.finished = true;
        await complete(open);
        continue;
      }
      if (
        open.committed >= runBytes ||
        (options.follow && open.committed > 0 && Date.now() - lastFlush >= flushMs)
      ) {
        await storeCommitted(open);
      }
      if (options.signal?.aborted) break;
    }
    if (open && !open.finished) await storeCommitted(open);
  } finally {
    await stream.return(undefined);
  }
  const last = open && !open.finished ? { file: open.name, end: open.stored.end } : undefined;
  return { server, prefix, resumedFrom, completed, partial: last, events, bytes };
}

function newFile(name: string): OpenFile {
  return {
    name,
    stored: { file: name, runs: [], end: 4 },
    pending: [],
    pendingBytes: 0,
    pendingEvents: 0,
    committed: 0,
    committedEvents: 0,
    next: 4,
    summary: newSummary(),
    finished: false,
  };
}

/** Picks up a partial file: its stored runs are read back to rebuild the summary the index needs. */
async function reopen(repo: Repository, partial: PartialFile): Promise<OpenFile> {
  const file = newFile(partial.file);
  for await (const { event } of decodeWithBytes(readPartialFile(repo, partial), { verify: true })) {
    summarize(file.summary, event);
  }
  file.stored = partial;
  file.next = partial.end;
  return file;
}

function newSummary(): FileSummary {
  return {
    gtidsBefore: null,
    firstGtid: null,
    lastGtid: null,
    firstTs: null,
    lastTs: null,
    transactions: 0,
    assembler: new TransactionAssembler(false),
  };
}

function summarize(summary: FileSummary, event: BinlogEvent): void {
  if (event.kind === 'mariadb-gtid-list') summary.gtidsBefore = event.gtids.join(',');
  if (event.kind === 'previous-gtids') summary.gtidsBefore = event.gtidSet;
  const tx = summary.assembler.push(event, 0);
  if (tx === undefined || !tx.complete) return;
  summary.transactions++;
  summary.firstGtid ??= tx.gtid ?? null;
  summary.lastGtid = tx.gtid ?? summary.lastGtid;
  summary.firstTs ??= tx.ts;
  summary.lastTs = tx.ts;
}

async function* chain(first: Buffer, rest: Readable): AsyncGenerator<Buffer> {
  yield first;
  for await (const chunk of rest) yield chunk as Buffer;
}

function describe(server: ServerIdentity): string {
  return `${server.hostname}:${server.port}`;
}
