/**
 * A backup repository:
 *
 *   salvage-repository.json           marks the root
 *   locks/<name>.lock                 held while a backup (or an archiver) writes
 *   backups/<id>/in-progress.json     written first: who is writing it
 *   backups/<id>/...                  the backup's files
 *   backups/<id>/manifest.json        written last: the backup is complete
 *   binlogs/<server key>/...          archived binary logs (binlog archive)
 *
 * Every object is written whole (see BackupStorage); the manifest written last
 * is the commit point, which works the same on a directory and on object
 * storage where there is no rename of a directory.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { PassThrough, pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import { z } from 'zod';
import { SalvageError } from '../errors.js';
import type { ServerIdentity } from '../mysql/index.js';
import { BACKUP_ID, type BackupFile, type BackupManifest, BackupManifestSchema } from './manifest.js';
import { type BackupStorage, openStorage, readJson, writeJson } from './storage.js';

const MARKER = 'salvage-repository.json';
const IN_PROGRESS = 'in-progress.json';
const MANIFEST = 'manifest.json';

export interface Repository {
  readonly url: string;
  readonly storage: BackupStorage;
}

/** Who holds a lock or is writing a backup. */
const HolderSchema = z.object({
  pid: z.number().int(),
  host: z.string(),
  startedAt: z.string(),
  backupId: z.string().optional(),
});
type Holder = z.infer<typeof HolderSchema>;

/** A backup directory without a manifest: still being written, or left by a crash. */
export interface IncompleteBackup {
  readonly id: string;
  readonly state: 'running' | 'abandoned';
  readonly startedAt: string | undefined;
  readonly pid: number | undefined;
  readonly host: string | undefined;
}

export interface BackupListing {
  /** Complete backups, oldest first. */
  readonly backups: readonly BackupManifest[];
  readonly incomplete: readonly IncompleteBackup[];
}

/**
 * Opens the repository at `url`. With `create` a missing one is made; without,
 * a URL that holds no repository is REPOSITORY_NOT_FOUND.
 */
export async function openRepository(url: string, options: { create?: boolean } = {}): Promise<Repository> {
  const storage = openStorage(url);
  if ((await storage.stat(MARKER)) === undefined) {
    if (!options.create) {
      throw new SalvageError('REPOSITORY_NOT_FOUND', `There is no salvage repository at ${storage.url}.`, {
        context: { repo: storage.url },
      });
    }
    await storage.putIfAbsent(
      MARKER,
      Buffer.from(`${JSON.stringify({ format: 1, createdAt: new Date().toISOString() })}\n`),
    );
  }
  return { url: storage.url, storage };
}

/** The storage key prefix of a backup. */
export function backupPrefix(id: string): string {
  return `backups/${id}/`;
}

/**
 * Where a server's archived binary logs go. MySQL servers are told apart by
 * server_uuid; MariaDB has none, so server_id, host and port stand in.
 */
export function binlogArchivePrefix(identity: ServerIdentity): string {
  const key =
    identity.serverUuid ??
    `${identity.hostname}-${identity.port}-${identity.serverId}`.replace(/[^\w.-]/g, '_');
  return `binlogs/${key}/`;
}

/**
 * Holds the repository lock `name` (`locks/<name>.lock`) for the duration of
 * `fn`: `backup` while a backup is written; the binlog archiver takes one per
 * server. A lock whose holder was on this host and is gone is taken over; any
 * other is REPOSITORY_LOCKED naming its holder.
 */
export async function withRepositoryLock<T>(
  repo: Repository,
  name: string,
  fn: () => Promise<T>,
  details: { backupId?: string } = {},
): Promise<T> {
  const key = `locks/${name}.lock`;
  const holder: Holder = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    ...details,
  };
  const body = Buffer.from(`${JSON.stringify(holder)}\n`);
  if (!(await repo.storage.putIfAbsent(key, body))) {
    const current = HolderSchema.safeParse(await readJson(repo.storage, key));
    if (current.success && isGone(current.data)) {
      await repo.storage.delete(key);
      if (await repo.storage.putIfAbsent(key, body)) return runHoldingLock(repo, key, fn);
    }
    const who = current.success
      ? `process ${current.data.pid} on ${current.data.host} since ${current.data.startedAt}`
      : 'an unknown process';
    throw new SalvageError('REPOSITORY_LOCKED', `${repo.url} is locked (${name}) by ${who}.`, {
      context: { repo: repo.url, lock: `${repo.url}/${key}` },
    });
  }
  return runHoldingLock(repo, key, fn);
}

async function runHoldingLock<T>(repo: Repository, key: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    await repo.storage.delete(key);
  }
}

function isGone(holder: Holder): boolean {
  if (holder.host !== hostname()) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Writes the files of one backup; `commit` makes it complete, `abandon` removes it. */
export interface BackupWriter {
  readonly id: string;
  /** Compresses `raw` into `<backup>/<path>.gz`, hashing what is stored. */
  writeFile(path: string, raw: Readable, table?: () => BackupFile['table']): Promise<BackupFile>;
  /** Writes the manifest (the commit point) and clears the in-progress marker. */
  commit(
    manifest: Omit<BackupManifest, 'format' | 'id' | 'files' | 'totalSize' | 'totalRawSize' | 'compression'>,
  ): Promise<BackupManifest>;
  /** Deletes whatever was written. */
  abandon(): Promise<void>;
}

/** Starts writing backup `id` (call holding the `backup` lock). */
export async function beginBackup(repo: Repository, id: string): Promise<BackupWriter> {
  const prefix = backupPrefix(id);
  const holder: Holder = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    backupId: id,
  };
  await writeJson(repo.storage, `${prefix}${IN_PROGRESS}`, holder);
  const files: BackupFile[] = [];
  return {
    id,
    async writeFile(path, raw, table) {
      const stored = `${path}.gz`;
      let rawSize = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          rawSize += chunk.length;
          done(null, chunk);
        },
      });
      const hasher = new HashingStream();
      // pipeline() destroys every stage on a failure, so put() sees the error and stores nothing.
      const body = pipeline(raw, counter, createGzip({ level: 6 }), hasher, () => undefined);
      const size = await repo.storage.put(`${prefix}${stored}`, body);
      const details = table?.();
      const file: BackupFile = {
        path: stored,
        size,
        sha256: hasher.hex(),
        rawSize,
        ...(details ? { table: details } : {}),
      };
      files.push(file);
      return file;
    },
    async commit(fields) {
      const manifest: BackupManifest = BackupManifestSchema.parse({
        format: 1,
        id,
        ...fields,
        compression: 'gzip',
        files: [...files].sort((a, b) => (a.path < b.path ? -1 : 1)),
        totalSize: files.reduce((sum, f) => sum + f.size, 0),
        totalRawSize: files.reduce((sum, f) => sum + f.rawSize, 0),
      });
      await writeJson(repo.storage, `${prefix}${MANIFEST}`, manifest);
      await repo.storage.delete(`${prefix}${IN_PROGRESS}`);
      return manifest;
    },
    async abandon() {
      await repo.storage.deletePrefix(prefix);
    },
  };
}

/** Complete backups (oldest first) and, apart, the incomplete ones. */
export async function listBackups(repo: Repository): Promise<BackupListing> {
  const backups: BackupManifest[] = [];
  const incomplete: IncompleteBackup[] = [];
  for (const id of await repo.storage.listChildren('backups/')) {
    if (!BACKUP_ID.test(id)) continue;
    const manifest = await readJson(repo.storage, `${backupPrefix(id)}${MANIFEST}`);
    if (manifest !== undefined) {
      backups.push(parseManifest(repo, id, manifest));
      continue;
    }
    const holder = HolderSchema.safeParse(await readJson(repo.storage, `${backupPrefix(id)}${IN_PROGRESS}`));
    incomplete.push({
      id,
      state: holder.success && !isGone(holder.data) ? 'running' : 'abandoned',
      startedAt: holder.success ? holder.data.startedAt : undefined,
      pid: holder.success ? holder.data.pid : undefined,
      host: holder.success ? holder.data.host : undefined,
    });
  }
  return { backups, incomplete };
}

/** The manifest of a complete backup; an unknown or incomplete id is BACKUP_NOT_FOUND. */
export async function readManifest(repo: Repository, id: string): Promise<BackupManifest> {
  const manifest = BACKUP_ID.test(id)
    ? await readJson(repo.storage, `${backupPrefix(id)}${MANIFEST}`)
    : undefined;
  if (manifest === undefined) {
    const started = BACKUP_ID.test(id) && (await repo.storage.stat(`${backupPrefix(id)}${IN_PROGRESS}`));
    throw new SalvageError(
      'BACKUP_NOT_FOUND',
      started
        ? `Backup ${id} in ${repo.url} is incomplete (it has no manifest).`
        : `There is no backup ${id} in ${repo.url}.`,
      { context: { repo: repo.url, backup: id } },
    );
  }
  return parseManifest(repo, id, manifest);
}

function parseManifest(repo: Repository, id: string, value: unknown): BackupManifest {
  const parsed = BackupManifestSchema.safeParse(value);
  if (!parsed.success || parsed.data.id !== id) {
    throw new SalvageError('BACKUP_CHECKSUM', `The manifest of backup ${id} in ${repo.url} is not valid.`, {
      hint: 'The manifest was damaged or written by an incompatible version; use another backup.',
      context: { file: `${backupPrefix(id)}${MANIFEST}`, backup: id },
    });
  }
  return parsed.data;
}

/**
 * A backup file's uncompressed bytes. The stored bytes are hashed as they
 * stream; at their end a size or SHA-256 different from the manifest's fails
 * the stream with BACKUP_CHECKSUM naming the file, so a consumer must not act
 * on the data before the stream has ended cleanly.
 */
export async function openBackupFile(
  repo: Repository,
  manifest: BackupManifest,
  file: BackupFile,
): Promise<Readable> {
  const stored = await repo.storage.get(`${backupPrefix(manifest.id)}${file.path}`);
  const gunzip = createGunzip();
  const out = new PassThrough();
  pipeline(stored, new HashingStream(file, manifest.id), gunzip, (error) => {
    if (error) out.destroy(damagedFile(error, file, manifest.id));
  });
  gunzip.pipe(out);
  return out;
}

/** A stored file that fails to decompress is as damaged as one whose hash differs. */
function damagedFile(error: Error, file: BackupFile, backupId: string): Error {
  if (
    error instanceof SalvageError ||
    !String((error as NodeJS.ErrnoException).code ?? '').startsWith('Z_')
  ) {
    return error;
  }
  return new SalvageError(
    'BACKUP_CHECKSUM',
    `${file.path} of backup ${backupId} does not decompress: ${error.message}.`,
    {
      context: { file: file.path, backup: backupId },
    },
  );
}

/** Re-reads a stored file and tells whether its size and SHA-256 match the manifest. */
export async function checkBackupFile(
  repo: Repository,
  manifest: BackupManifest,
  file: BackupFile,
): Promise<{ ok: boolean; size: number; sha256: string }> {
  const hasher = new HashingStream();
  try {
    for await (const _ of (await repo.storage.get(`${backupPrefix(manifest.id)}${file.path}`)).pipe(hasher)) {
      // only the hash is wanted
    }
  } catch (error) {
    if (error instanceof SalvageError && error.code === 'BACKUP_NOT_FOUND')
      return { ok: false, size: 0, sha256: '' };
    throw error;
  }
  const sha256 = hasher.hex();
  return { ok: sha256 === file.sha256 && hasher.bytes === file.size, size: hasher.bytes, sha256 };
}

/** Throws BACKUP_CHECKSUM naming the file when its stored bytes differ from the manifest. */
export async function assertBackupFileIntact(
  repo: Repository,
  manifest: BackupManifest,
  file: BackupFile,
): Promise<void> {
  const found = await checkBackupFile(repo, manifest, file);
  if (!found.ok) {
    throw new SalvageError(
      'BACKUP_CHECKSUM',
      `${file.path} of backup ${manifest.id} does not match its manifest (sha256 ${found.sha256 || 'missing'}, ${found.size} bytes; expected ${file.sha256}, ${file.size} bytes).`,
      { context: { file: file.path, backup: manifest.id } },
    );
  }
}

/** Passes bytes through, hashing them; given an expected file, fails at the end on a mismatch. */
class HashingStream extends Transform {
  bytes = 0;
  readonly #hash = createHash('sha256');
  #digest: string | undefined;

  constructor(
    private readonly expected?: BackupFile,
    private readonly backupId?: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    this.#hash.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    const digest = this.hex();
    const file = this.expected;
    if (file !== undefined && (digest !== file.sha256 || this.bytes !== file.size)) {
      done(
        new SalvageError(
          'BACKUP_CHECKSUM',
          `${file.path} of backup ${this.backupId} does not match its manifest (sha256 ${digest}, ${this.bytes} bytes; expected ${file.sha256}, ${file.size} bytes).`,
          { context: { file: file.path, backup: this.backupId } },
        ),
      );
      return;
    }
    done();
  }

  hex(): string {
    this.#digest ??= this.#hash.digest('hex');
    return this.#digest;
  }
}

/** When the oldest complete backup was started; undefined for an empty repository. */
export async function oldestBackupTime(repo: Repository): Promise<Date | undefined> {
  const { backups } = await listBackups(repo);
  const starts = backups.map((backup) => Date.parse(backup.startedAt)).filter(Number.isFinite);
  return starts.length === 0 ? undefined : new Date(Math.min(...starts));
}
