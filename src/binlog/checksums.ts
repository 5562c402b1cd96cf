/**
 * CRC32 verification of binlog files on a second thread. Checking every
 * event's checksum costs about as much as decoding it; a reader that only
 * acts once the whole range is read (the undo, impact) can decode unverified
 * while a worker verifies the same bytes, and fail at the end of the range
 * with the same BINLOG_CHECKSUM error, naming the same event, as inline
 * verification would have raised.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type ErrorCode, type ErrorContext, isSalvageError, SalvageError } from '../errors.js';
import { verifyChecksum } from './event-stream.js';
import { EventType } from './event-types.js';
import { type BinlogFormat, DEFAULT_FORMAT } from './events/format-description.js';
import { decodeEvent } from './events/index.js';
import { readBinlogFileChunks } from './sources/files.js';

/** What the worker is asked: these files, the first from `from` on. */
export interface ChecksumJob {
  readonly files: readonly string[];
  readonly from: number;
}

/** What it answers: nothing, or the error inline verification would have thrown. */
export type ChecksumVerdict =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly code: ErrorCode;
      readonly message: string;
      readonly context?: ErrorContext;
    };

/** Verifies every event's CRC32 (files whose FORMAT_DESCRIPTION announces checksums). */
export async function verifyFileChecksums(job: ChecksumJob): Promise<void> {
  for (const [index, path] of job.files.entries()) {
    const file = basename(path);
    let format: BinlogFormat = DEFAULT_FORMAT;
    for await (const chunk of readBinlogFileChunks(path, { from: index === 0 ? job.from : undefined })) {
      const { buffer } = chunk;
      let position = chunk.position;
      for (let at = chunk.start; at < chunk.end; ) {
        const length = buffer.readUInt32LE(at + 9);
        const where = { file, position };
        if (buffer[at + 4] === EventType.FORMAT_DESCRIPTION) {
          const event = decodeEvent(buffer, at, at + length, format, false, where);
          if (event.kind === 'format-description') {
            format = event.format;
            if (event.checksumAlgorithm === 1) verifyChecksum(buffer, at, at + length, true, where);
          }
        } else if (format.checksum) {
          verifyChecksum(buffer, at, at + length, false, where);
        }
        at += length;
        position += length;
      }
    }
  }
}

/** The compiled worker; absent when running from the TypeScript sources (tests), where verifying stays inline. */
const WORKER = new URL('./checksum-worker.js', import.meta.url);

/**
 * Starts verifying on a worker; undefined when no worker can run here (the
 * caller then verifies inline). The promise settles when every event is
 * checked and rejects with the first failure; `stop()` ends it early.
 */
export function verifyChecksumsAside(
  job: ChecksumJob,
): { readonly done: Promise<void>; stop(): Promise<void> } | undefined {
  if (WORKER.protocol !== 'file:' || !existsSync(fileURLToPath(WORKER))) return undefined;
  const worker = new Worker(WORKER, { workerData: job });
  const done = new Promise<void>((resolve, reject) => {
    worker.once('message', (verdict: ChecksumVerdict) => {
      if (verdict.ok) resolve();
      else reject(new SalvageError(verdict.code, verdict.message, { context: verdict.context }));
    });
    worker.once('error', (error) => reject(error));
    worker.once('exit', (code) => {
      if (code !== 0) reject(new SalvageError('INTERNAL', `the checksum worker exited with status ${code}`));
    });
  });
  // A failure nobody awaits (the reader stopped first) must not crash the process.
  done.catch(() => undefined);
  return {
    done,
    stop: async () => {
      await worker.terminate();
    },
  };
}

/** The verdict of a job, as the worker posts it. */
export async function checksumVerdict(job: ChecksumJob): Promise<ChecksumVerdict> {
  try {
    await verifyFileChecksums(job);
    return { ok: true };
  } catch (error) {
    if (isSalvageError(error))
      return { ok: false, code: error.code, message: error.message, context: error.context };
    return { ok: false, code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
  }
}
