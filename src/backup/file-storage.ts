/**
 * A repository in a local directory (file:///path). Objects are written to a
 * hidden temporary name, flushed to disk and renamed into place, so a crash
 * leaves either the old object, the new one, or a stray `.tmp-` file that
 * listings skip.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, open, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { SalvageError } from '../errors.js';
import type { BackupStorage, StoredObject } from './storage.js';

const TEMP_MARK = '.tmp-';

export function openFileStorage(url: URL): BackupStorage {
  if (url.host !== '' && url.host !== 'localhost') {
    throw new SalvageError(
      'BAD_INPUT',
      `${url.href} names a host; a file:// repository is a local directory.`,
      {
        hint: 'Write it as file:///absolute/path (three slashes).',
      },
    );
  }
  const root = fileURLToPath(url).replace(/\/+$/, '');
  const href = `file://${root}`;
  const pathOf = (key: string): string => join(root, checkKey(key));

  return {
    url: href,
    async put(key, body) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      const temp = tempName(path);
      try {
        const out = createWriteStream(temp, { flags: 'wx' });
        await pipeline(body, out);
        await syncFile(temp);
        await rename(temp, path);
      } catch (error) {
        await rm(temp, { force: true });
        throw storageError(error, href, key);
      }
      return (await stat(path)).size;
    },
    async putIfAbsent(key, body) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      const temp = tempName(path);
      await writeFile(temp, body, { flag: 'wx' });
      try {
        // link() fails when the name exists: an exclusive create that appears with its content.
        await link(temp, path);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw storageError(error, href, key);
      } finally {
        await unlink(temp).catch(() => undefined);
      }
    },
    async get(key) {
      const path = pathOf(key);
      try {
        await stat(path);
      } catch (error) {
        throw storageError(error, href, key);
      }
      return createReadStream(path);
    },
    async stat(key) {
      try {
        const info = await stat(pathOf(key));
        return info.isFile() ? { key, size: info.size, modifiedAt: info.mtime } : undefined;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw storageError(error, href, key);
      }
    },
    async list(prefix) {
      const found: StoredObject[] = [];
      await walk(pathOf(prefix), checkKey(prefix).replace(/\/?$/, '/'), found);
      return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    async listChildren(prefix) {
      const entries = await readdir(pathOf(prefix), { withFileTypes: true }).catch(
        (error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') return [];
          throw storageError(error, href, prefix);
        },
      );
      return entries
        .map((entry) => entry.name)
        .filter((name) => !name.includes(TEMP_MARK))
        .sort();
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
    async deletePrefix(prefix) {
      await rm(pathOf(prefix), { recursive: true, force: true });
    },
  };
}

/** Keys are relative and never climb out of the repository. */
function checkKey(key: string): string {
  const parts = key.split('/').filter((part) => part !== '');
  if (key.startsWith('/') || parts.some((part) => part === '..' || part === '.' || part.includes(sep))) {
    throw new SalvageError('INTERNAL', `Invalid repository key ${JSON.stringify(key)}.`);
  }
  return parts.join('/');
}

function tempName(path: string): string {
  return join(
    dirname(path),
    `.${path.slice(dirname(path).length + 1)}${TEMP_MARK}${randomBytes(4).toString('hex')}`,
  );
}

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function walk(dir: string, keyPrefix: string, found: StoredObject[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [];
    throw error;
  });
  for (const entry of entries) {
    if (entry.name.includes(TEMP_MARK)) continue;
    const path = join(dir, entry.name);
    const key = `${keyPrefix}${entry.name}`;
    if (entry.isDirectory()) await walk(path, `${key}/`, found);
    else if (entry.isFile()) {
      const info = await stat(path);
      found.push({ key, size: info.size, modifiedAt: info.mtime });
    }
  }
}

function storageError(error: unknown, url: string, key: string): SalvageError {
  if (error instanceof SalvageError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') {
    return new SalvageError('BACKUP_NOT_FOUND', `${url}/${key} does not exist.`, { context: { file: key } });
  }
  if (code === 'ENOSPC') {
    return new SalvageError('NO_SPACE', `The disk holding ${url} is full (writing ${key}).`, {
      context: { file: key },
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new SalvageError('SERVER_ERROR', `Repository ${url}: ${key}: ${message}`, {
    hint: 'Check that the repository directory exists and is writable.',
    context: { file: key },
    cause: error,
  });
}
