/**
 * Where a repository keeps its objects. The contract is the one object
 * stores give (S3 and the like), so a bucket can back a repository as well
 * as a directory: whole-object writes, exclusive creates, prefix listings.
 * There is deliberately no rename and no append.
 */
import { Readable } from 'node:stream';
import { SalvageError } from '../errors.js';
import { openFileStorage } from './file-storage.js';

/** One stored object. Keys are relative, `/`-separated, e.g. `backups/<id>/manifest.json`. */
export interface StoredObject {
  readonly key: string;
  /** Bytes as stored. */
  readonly size: number;
  readonly modifiedAt: Date;
}

export interface BackupStorage {
  /** The repository URL, for messages. */
  readonly url: string;
  /**
   * Stores `body` under `key`, whole or not at all: until it has been read to
   * its end without error, readers see the old object or none. Returns the bytes stored.
   */
  put(key: string, body: Readable): Promise<number>;
  /** Creates `key` only if it does not exist yet; false when it already did (used for locks). */
  putIfAbsent(key: string, body: Uint8Array): Promise<boolean>;
  /** The object's bytes; a missing key throws BACKUP_NOT_FOUND naming it. */
  get(key: string): Promise<Readable>;
  /** The object, or undefined when it does not exist. */
  stat(key: string): Promise<StoredObject | undefined>;
  /** Every object whose key starts with `prefix` (which ends with `/`), in key order. */
  list(prefix: string): Promise<StoredObject[]>;
  /** The names one level below `prefix` (like an S3 listing with delimiter `/`). */
  listChildren(prefix: string): Promise<string[]>;
  /** Removes the object; a missing one is not an error. */
  delete(key: string): Promise<void>;
  /** Removes every object under `prefix`. */
  deletePrefix(prefix: string): Promise<void>;
}

/** Opens the storage a repository URL names. Only file:// for now; s3:// is the next backend. */
export function openStorage(url: string): BackupStorage {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SalvageError('BAD_INPUT', `"${url}" is not a repository URL.`, {
      hint: 'Give the repository as file:///absolute/path.',
    });
  }
  if (parsed.protocol === 'file:') return openFileStorage(parsed);
  throw new SalvageError('BAD_INPUT', `Repositories at ${parsed.protocol}// are not supported yet.`, {
    hint: 'Use a directory: --repo file:///absolute/path.',
  });
}

/** Reads a small JSON object (manifests, locks); undefined when it does not exist. */
export async function readJson(storage: BackupStorage, key: string): Promise<unknown> {
  if ((await storage.stat(key)) === undefined) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of await storage.get(key)) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new SalvageError('BACKUP_CHECKSUM', `${storage.url}/${key} is not valid JSON.`, {
      context: { file: key },
    });
  }
}

/** Writes a small JSON object atomically. */
export async function writeJson(storage: BackupStorage, key: string, value: unknown): Promise<void> {
  await storage.put(key, Readable.from([Buffer.from(`${JSON.stringify(value, null, 2)}\n`)]));
}
