/**
 * Restoring a backup into a new sandbox or into a named server that is not
 * its source. Free space is checked first; every file's SHA-256 is checked as
 * it is read back.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, statfs } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createSandbox, defaultBaseDir, type Sandbox, type SandboxOptions } from '../environment/index.js';
import { SalvageError } from '../errors.js';
import {
  type ConnectTarget,
  describeTarget,
  parseDsn,
  queryRows,
  quoteIdentifier,
  quoteTableName,
  readServerIdentity,
  resolveTarget,
  sameServer,
  withConnection,
} from '../mysql/index.js';
import { SYSTEM_SCHEMAS } from '../verify/index.js';
import { restoreLogicalBackup } from './logical.js';
import type { BackupManifest } from './manifest.js';
import { assertTablesInBackup, databasesOf } from './partial.js';
import { restorePhysicalBackup } from './physical.js';
import { openRepository, type Repository, readManifest } from './repository.js';

export type RestoreTarget =
  | {
      readonly kind: 'sandbox';
      readonly options?: SandboxOptions;
      /** Makes the sandbox (default createSandbox); tests pass their helper. */
      readonly create?: (options: SandboxOptions) => Promise<Sandbox>;
    }
  | { readonly kind: 'server'; readonly target: ConnectTarget };

export interface RestoredBackup {
  readonly backup: BackupManifest;
  /** The new sandbox, when restored into one; its owner destroys it. */
  readonly sandbox: Sandbox | undefined;
  /** How to connect to the restored server. */
  readonly target: ConnectTarget;
  readonly seconds: number;
}

/** Restores backup `id` of the repository `repo` (URL or opened) into `into`. */
export async function restoreBackup(
  repo: string | Repository,
  id: string,
  into: RestoreTarget,
  options: {
    workers?: number;
    /** Only these tables (`db.table`): the others are not restored, or (physical) dropped after. */
    tables?: readonly string[];
    /** More room the caller will need beside the sandbox (relay logs for the replay), checked up front too. */
    reserveBytes?: number;
  } = {},
): Promise<RestoredBackup> {
  const tables = options.tables === undefined ? undefined : new Set(options.tables);
  const started = performance.now();
  const repository = typeof repo === 'string' ? await openRepository(repo) : repo;
  const manifest = await readManifest(repository, id);
  if (into.kind === 'server') {
    if (manifest.method === 'physical') {
      throw new SalvageError(
        'BAD_INPUT',
        `Backup ${id} is physical: it restores into a sandbox, not into a running server.`,
        {
          hint: 'Use --into sandbox, or restore a logical backup into the server.',
        },
      );
    }
    await assertNotSource(into.target, manifest);
    await restoreLogicalBackup(repository, manifest, into.target, options.workers, tables);
    return { backup: manifest, sandbox: undefined, target: into.target, seconds: elapsed(started) };
  }
  const sandboxOptions = into.options ?? {};
  const baseDir = resolve(sandboxOptions.baseDir ?? defaultBaseDir());
  const serverOptions = { ...restoredServerOptions(manifest), ...sandboxOptions.serverOptions };
  const make = () => (into.create ?? createSandbox)({ ...sandboxOptions, serverOptions, baseDir });
  // InnoDB files take more room than the dump's text; the extracted stream about its own size.
  const needed = manifest.method === 'physical' ? manifest.totalRawSize * 1.1 : manifest.totalRawSize * 2;
  await assertFreeSpace(baseDir, needed + REDO_LOG_BYTES + (options.reserveBytes ?? 0) + 256 * 1024 * 1024);
  let sandbox: Sandbox;
  if (manifest.method === 'physical') {
    const workDir = join(baseDir, `.restore-${id}-${randomBytes(3).toString('hex')}`);
    try {
      sandbox = await restorePhysicalBackup(repository, manifest, workDir, make);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
    if (tables !== undefined) {
      await keepOnlyTables(sandboxTarget(sandbox), tables, manifest).catch(async (error: unknown) => {
        await sandbox.destroy();
        throw error;
      });
    }
  } else {
    sandbox = await make();
    try {
      await restoreLogicalBackup(repository, manifest, sandboxTarget(sandbox), options.workers, tables);
    } catch (error) {
      await sandbox.destroy();
      throw error;
    }
  }
  return { backup: manifest, sandbox, target: sandboxTarget(sandbox), seconds: elapsed(started) };
}

/**
 * A physical backup restores every table; for a partial restore the others
 * are dropped (unlogged), so nothing stale from the backup passes for restored data.
 */
async function keepOnlyTables(
  target: ConnectTarget,
  tables: ReadonlySet<string>,
  manifest: BackupManifest,
): Promise<void> {
  await withConnection(target, async (conn) => {
    const rows = await queryRows(
      conn,
      'SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name, TABLE_TYPE AS type FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN (?)',
      [SYSTEM_SCHEMAS],
    );
    assertTablesInBackup(tables, new Set(rows.map((r) => `${r.db}.${r.name}`)), manifest);
    const keep = databasesOf(tables);
    const databases = await queryRows(conn, 'SELECT SCHEMA_NAME AS db FROM information_schema.SCHEMATA');
    await conn.query('SET SESSION sql_log_bin = 0, SESSION foreign_key_checks = 0');
    for (const row of databases) {
      const db = String(row.db);
      if (!SYSTEM_SCHEMAS.includes(db) && !keep.has(db))
        await conn.query(`DROP DATABASE ${quoteIdentifier(db)}`);
    }
    for (const r of rows) {
      const db = String(r.db);
      if (!keep.has(db) || tables.has(`${db}.${r.name}`)) continue;
      const kind = r.type === 'VIEW' ? 'VIEW' : 'TABLE';
      await conn.query(`DROP ${kind} ${quoteTableName(db, String(r.name))}`);
    }
  });
}

const MIB = 2 ** 20;
/** Room for the writes a replay makes between checkpoints; a small redo log makes InnoDB flush pages nonstop. */
const REDO_LOG_BYTES = 512 * MIB;

/**
 * A restored server holds the user's data and takes the binlog replay: its
 * buffer pool fits the data (within bounds), its redo log takes a replay's
 * writes, and it can apply relay logs (replay-relay.ts in restore) without
 * starting any replication of its own, even if the backup was of a replica.
 */
function restoredServerOptions(manifest: BackupManifest): Record<string, string> {
  const pool = Math.min(1024, Math.max(128, Math.ceil((manifest.totalRawSize * 1.25) / MIB)));
  return {
    innodb_buffer_pool_size: `${pool}M`,
    ...(manifest.server.flavor === 'mariadb' ? { innodb_log_file_size: `${REDO_LOG_BYTES / MIB}M` } : {}),
    log_slave_updates: 'ON',
    relay_log: 'relay-bin',
    skip_slave_start: 'ON',
  };
}

/** A sandbox's login: root without password, never the user's password sources. */
export function sandboxTarget(sandbox: Sandbox): ConnectTarget {
  return resolveTarget(parseDsn(sandbox.dsn), { env: {}, home: sandbox.dir, tls: { mode: 'disabled' } });
}

async function assertNotSource(target: ConnectTarget, manifest: BackupManifest): Promise<void> {
  const identity = await withConnection(target, readServerIdentity);
  if (sameServer(identity, { ...manifest.server, serverUuid: manifest.server.serverUuid })) {
    throw new SalvageError(
      'REFUSED_SOURCE',
      `${describeTarget(target)} is the server backup ${manifest.id} was taken from.`,
      {
        context: { server: describeTarget(target), backup: manifest.id },
      },
    );
  }
}

/** Fails with NO_SPACE when the file system holding `dir` has less than `bytes` free. */
export async function assertFreeSpace(dir: string, bytes: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  const fs = await statfs(dir);
  const free = fs.bavail * fs.bsize;
  if (free < bytes) {
    throw new SalvageError(
      'NO_SPACE',
      `The restore needs about ${formatBytes(bytes)} in ${dir}, which has ${formatBytes(free)} free.`,
      { context: { dir, needed: Math.ceil(bytes), free } },
    );
  }
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started) / 1000;
}
