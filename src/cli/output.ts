/**
 * Output for commands: human text to stdout, or with --json exactly one JSON
 * document (or NDJSON lines for streams) and nothing else on stdout.
 * Progress and warnings go to stderr so they never mix into --json output.
 */
import { isSalvageError, type SalvageError } from '../errors.js';

export interface Output {
  readonly json: boolean;
  /** A line of human output; ignored in --json mode. */
  line(text: string): void;
  /** The single JSON document of a command (only in --json mode). */
  document(value: unknown): void;
  /** One NDJSON record of a stream (only in --json mode). */
  record(value: unknown): void;
  /** Progress or a warning, always to stderr. */
  note(text: string): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    line(text) {
      if (!json) writeOut(`${text}\n`);
    },
    document(value) {
      if (json) writeOut(`${JSON.stringify(value, null, 2)}\n`);
    },
    record(value) {
      if (json) writeOut(`${JSON.stringify(value)}\n`);
    },
    note(text) {
      process.stderr.write(`${text}\n`);
    },
  };
}

let stdoutBroken = false;
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  // `salvage binlog rows | head` closes the pipe early; that is not an error.
  if (error.code === 'EPIPE') stdoutBroken = true;
  else throw error;
});

/**
 * Writes to stdout and reports whether the caller may keep writing without
 * waiting for 'drain' (streams of millions of rows must not buffer in memory).
 */
export function writeOut(text: string): boolean {
  if (stdoutBroken) return true;
  return process.stdout.write(text);
}

export function isStdoutClosed(): boolean {
  return stdoutBroken;
}

/** Resolves when stdout can take more data. */
export function stdoutDrained(): Promise<void> {
  if (stdoutBroken || !process.stdout.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve) => process.stdout.once('drain', resolve));
}

export function formatError(error: SalvageError, json: boolean): string {
  if (json) {
    return JSON.stringify({
      error: { code: error.code, message: error.message, hint: error.hint, ...error.context },
    });
  }
  return `salvage: error ${error.code}: ${error.message}\n  hint: ${error.hint}`;
}

export { isSalvageError };
