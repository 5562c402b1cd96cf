/**
 * The binlog chain written out as a replica's relay logs, for the server's own
 * replication applier to apply (replay-relay.ts). One relay file per binlog
 * file: its FORMAT_DESCRIPTION, an artificial ROTATE naming the binlog file
 * (as a replica's I/O thread writes it, so the applier reports positions in
 * the source's binlog and knows which file it is in), then the events as they
 * are, byte for byte, leaving out the transactions to skip and the events that
 * only describe the file (rotations, GTID lists, checkpoints).
 */

import type { FileHandle } from 'node:fs/promises';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventWithBytes } from '../backup/index.js';
import {
  BINLOG_MAGIC,
  type BinlogEvent,
  crc32,
  EVENT_HEADER_LENGTH,
  EventFlag,
  EventType,
  TransactionAssembler,
} from '../binlog/index.js';
import { SalvageError } from '../errors.js';
import { before, type Coordinates } from './chain.js';
import { assertEndsAtTransaction, mentionsTable, throwIfInterrupted } from './replay.js';

/** Where the relay logs go: the replica's relay log directory and base name (`relay-bin`). */
export interface RelayLogPlace {
  readonly dir: string;
  readonly baseName: string;
}

/** How far the applier is, in transactions, at a point of the source's binlog. */
export interface ProgressMark extends Coordinates {
  readonly transactions: number;
}

export interface RelayLogs {
  /** Relay file names, in order (relative to `dir`). */
  readonly files: readonly string[];
  /** Transactions written (to be applied). */
  readonly transactions: number;
  /** Transactions written that touch none of the chosen tables: the applier's filter leaves them out. */
  readonly filtered: number;
  /** GTIDs of the transactions left out (--skip), in binlog order. */
  readonly skipped: readonly string[];
  /** Where the last written transaction ends in the source's binlog, with its GTID. */
  readonly last: (Coordinates & { readonly gtid: string | undefined }) | undefined;
  /** Every so many transactions, where the applier will be once it has applied them. */
  readonly marks: readonly ProgressMark[];
}

/** An event written by the target server itself: its applier would skip it silently. */
export class OwnServerIdEvent extends Error {}

const WRITE_CHUNK = 1 << 20;
const MARK_EVERY = 500;

/** Events that describe the binlog file rather than change data; a relay log has its own. */
const FILE_EVENTS = new Set([
  'format-description',
  'rotate',
  'mariadb-gtid-list',
  'binlog-checkpoint',
  'previous-gtids',
  'stop',
  'heartbeat',
]);

/** Relay file `n` (1-based) of `baseName`, named the way the server names its own. */
export function relayFileName(baseName: string, n: number): string {
  return `${baseName}.${String(n).padStart(6, '0')}`;
}

/**
 * Writes `events` (from a transaction boundary, bounded at the cut by the
 * caller) as relay logs and their index. Throws OwnServerIdEvent when an event
 * carries `targetServerId`.
 */
export async function writeRelayLogs(
  batches: AsyncIterable<readonly EventWithBytes[]>,
  place: RelayLogPlace,
  options: {
    readonly skip: ReadonlySet<string>;
    readonly targetServerId: number;
    /** Count as filtered the transactions that touch none of these (`db.table`); the applier's filter leaves them out. */
    readonly tables?: ReadonlySet<string>;
    readonly signal?: AbortSignal;
  },
): Promise<RelayLogs> {
  const files: string[] = [];
  const skipped: string[] = [];
  const marks: ProgressMark[] = [];
  const assembler = new TransactionAssembler(false);
  let out: RelayFile | undefined;
  let binlogFile = '';
  let format: { bytes: Buffer; checksums: boolean } | undefined;
  let skipping = false;
  let transactions = 0;
  let filtered = 0;
  let relevant = false;
  let last: RelayLogs['last'];
  let done = false;
  try {
    for await (const batch of batches)
      for (const { raw, event } of batch) {
        const h = event.header;
        if (event.kind === 'format-description') {
          format = { bytes: raw.bytes, checksums: event.checksumAlgorithm === 1 };
          continue;
        }
        if (!FILE_EVENTS.has(event.kind)) {
          if (h.serverId === options.targetServerId) throw new OwnServerIdEvent();
          if (h.file !== binlogFile) {
            if (format === undefined) {
              throw new SalvageError('INTERNAL', `no format description before ${h.file}:${h.position}`);
            }
            const previous = out;
            out = undefined;
            await previous?.close();
            files.push(relayFileName(place.baseName, files.length + 1));
            out = await RelayFile.create(join(place.dir, files.at(-1) as string));
            await out.write(BINLOG_MAGIC);
            await out.write(format.bytes);
            await out.write(artificialRotate(h.file, h.position, h.serverId, format.checksums));
            binlogFile = h.file;
          }
          if (event.kind === 'mariadb-gtid' || event.kind === 'gtid') {
            skipping = event.gtid !== undefined && options.skip.has(event.gtid);
          }
          if (!skipping) await (out as RelayFile).write(raw.bytes);
          if (options.tables !== undefined && !relevant) relevant = touches(event, options.tables);
        }
        const tx = assembler.push(event, 0);
        if (tx === undefined || !tx.complete) continue;
        if (skipping && tx.gtid !== undefined) {
          skipped.push(tx.gtid);
        } else if (options.tables !== undefined && !relevant) {
          filtered++;
        } else {
          transactions++;
          last = { file: tx.file, position: tx.end, gtid: tx.gtid };
          if (transactions % MARK_EVERY === 0) marks.push({ file: tx.file, position: tx.end, transactions });
        }
        skipping = false;
        relevant = false;
        throwIfInterrupted(options.signal);
      }
    assertEndsAtTransaction(assembler);
    done = true;
  } finally {
    await out?.close();
    // Nothing of a failed write stays behind for the applier to find.
    if (!done) for (const file of files) await rm(join(place.dir, file), { force: true });
  }
  return { files, transactions, filtered, skipped, last, marks };
}

/** Whether an event of a transaction changes one of `tables`: its rows, or a statement naming one. */
function touches(event: BinlogEvent, tables: ReadonlySet<string>): boolean {
  if (event.kind === 'table-map') return tables.has(`${event.table.database}.${event.table.table}`);
  if (event.kind !== 'query' || /^\s*(BEGIN|COMMIT|ROLLBACK)\s*$/i.test(event.query)) return false;
  return mentionsTable(event.query, event.schema, tables);
}

/** The index the server reads relay file names from: paths relative to the data directory. */
export function relayIndex(files: readonly string[]): string {
  return files.map((f) => `./${f}\n`).join('');
}

/** How many transactions are applied once the applier has reached `at`. */
export function transactionsBefore(marks: readonly ProgressMark[], at: Coordinates): number {
  let count = 0;
  for (const mark of marks) {
    if (before(at, mark)) break;
    count = mark.transactions;
  }
  return count;
}

/** A ROTATE as a replica's I/O thread writes it at the top of a relay log: timestamp 0, artificial. */
function artificialRotate(file: string, position: number, serverId: number, checksums: boolean): Buffer {
  const name = Buffer.from(file, 'utf8');
  const length = EVENT_HEADER_LENGTH + 8 + name.length + (checksums ? 4 : 0);
  const event = Buffer.alloc(length);
  event.writeUInt32LE(0, 0);
  event.writeUInt8(EventType.ROTATE, 4);
  event.writeUInt32LE(serverId, 5);
  event.writeUInt32LE(length, 9);
  event.writeUInt32LE(0, 13);
  event.writeUInt16LE(EventFlag.ARTIFICIAL, 17);
  event.writeBigUInt64LE(BigInt(position), EVENT_HEADER_LENGTH);
  name.copy(event, EVENT_HEADER_LENGTH + 8);
  if (checksums) event.writeUInt32LE(crc32(event, 0, length - 4) >>> 0, length - 4);
  return event;
}

/** A relay file written in large chunks. */
class RelayFile {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  private constructor(
    private readonly handle: FileHandle,
    private readonly path: string,
  ) {}

  static async create(path: string): Promise<RelayFile> {
    return new RelayFile(await open(path, 'wx'), path);
  }

  async write(bytes: Buffer): Promise<void> {
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.pendingBytes >= WRITE_CHUNK) await this.flush();
  }

  async close(): Promise<void> {
    await this.flush();
    await this.handle.close();
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const chunk = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    await this.handle.write(chunk).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOSPC') throw error;
      throw new SalvageError(
        'NO_SPACE',
        `The disk holding ${this.path} is full: the relay logs hold a copy of the binlog range.`,
        {
          hint: 'Free disk space for the sandbox (about the size of the binlogs replayed), or restore with --applier session.',
          context: { file: this.path },
        },
      );
    });
  }
}
