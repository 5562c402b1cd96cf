/**
 * Reading the end of a server's error log, to show why it failed.
 */
import { open } from 'node:fs/promises';

/** The last lines of `path` written after byte offset `from` ('' when unreadable). */
export async function tail(path: string, from = 0): Promise<string> {
  try {
    const handle = await open(path, 'r');
    try {
      const size = (await handle.stat()).size;
      const start = Math.max(from, size - 8192);
      const buffer = Buffer.alloc(Math.max(0, size - start));
      await handle.read(buffer, 0, buffer.length, start);
      return lastLines(buffer.toString('utf8'));
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}

export function lastLines(text: string, count = 20): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}
