/**
 * Physical backups: mariabackup (MariaDB) or xtrabackup (MySQL) — one
 * adapter, the binaries chosen by flavor — streaming xbstream into the
 * repository; restored by extracting, preparing, and starting a sandbox on
 * the prepared data directory.
 */
import { constants } from 'node:fs';
import { access, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Sandbox } from '../environment/index.js';
import { SalvageError } from '../errors.js';
import { type ConnectTarget, describeTarget, type Flavor, type ServerDescription } from '../mysql/index.js';
import type { BackupManifest, ConsistentPoint } from './manifest.js';
import { assertBackupFileIntact, type BackupWriter, openBackupFile, type Repository } from './repository.js';
import { findTool, runTool, toolVersion, withClientOptionFile } from './tool.js';

/** The xbstream file of a physical backup, as stored. */
export const PHYSICAL_STREAM = 'physical.xbstream';

interface PhysicalTools {
  /** The backup/prepare program. */
  readonly backup: readonly string[];
  /** The xbstream extractor. */
  readonly stream: readonly string[];
}

const TOOLS: Record<Flavor, PhysicalTools> = {
  mariadb: { backup: ['mariabackup', 'mariadb-backup'], stream: ['mbstream'] },
  mysql: { backup: ['xtrabackup'], stream: ['xbstream'] },
};

export interface PhysicalBackupResult {
  readonly tool: { readonly name: string; readonly version: string };
  readonly point: ConsistentPoint;
}

/**
 * Streams a physical backup of `source` into `writer`. The tool copies the
 * data directory, so it must run on the server's host: a remote server or an
 * unreadable data directory is BACKUP_NEEDS_LOCAL_SERVER.
 */
export async function writePhysicalBackup(
  writer: BackupWriter,
  source: ConnectTarget,
  server: ServerDescription,
  onToolStarted: (tool: string, pid: number) => void = () => undefined,
): Promise<PhysicalBackupResult> {
  await assertDatadirReachable(source, server);
  const program = findTool(TOOLS[server.flavor].backup);
  const version = await toolVersion(program);
  return withClientOptionFile(source, async (optionFile, workDir) => {
    const lsnDir = join(workDir, 'lsn');
    // --defaults-file (first, alone): only our file is read, not a my.cnf that may point elsewhere.
    const tool = runTool(
      program,
      [
        `--defaults-file=${optionFile}`,
        '--backup',
        '--stream=xbstream',
        `--target-dir=${join(workDir, 'target')}`,
        `--extra-lsndir=${lsnDir}`,
        `--datadir=${server.identity.datadir}`,
      ],
      { stdout: 'pipe' },
    );
    if (tool.child.pid !== undefined) onToolStarted(program, tool.child.pid);
    const stdout = tool.child.stdout;
    if (stdout === null) throw new SalvageError('INTERNAL', `${program} has no stdout pipe.`);
    const [stored, exited] = await Promise.allSettled([
      writer.writeFile(PHYSICAL_STREAM, stdout).catch((error: unknown) => {
        tool.child.kill('SIGTERM');
        throw error;
      }),
      tool.exited,
    ]);
    // The tool's own failure explains a short stream better than the stream does.
    if (exited.status === 'rejected') throw exited.reason;
    if (stored.status === 'rejected') throw stored.reason;
    const info = await readFile(join(lsnDir, 'xtrabackup_info'), 'utf8').catch(() => '');
    return { tool: { name: program.split('/').pop() ?? program, version }, point: parseBinlogPos(info) };
  });
}

/**
 * The consistent point from xtrabackup_info, which the tool writes both into
 * the stream and into --extra-lsndir:
 *   binlog_pos = filename 'binlog.000001', position '1030', GTID of the last change '0-1-3'
 */
export function parseBinlogPos(info: string): ConsistentPoint {
  const match =
    /^binlog_pos = filename '([^']+)', position '?(\d+)'?(?:, GTID of the last change '([^']*)')?/m.exec(
      info,
    );
  if (match === null) return { binlog: null, gtid: null };
  const gtid = (match[3] ?? '').replace(/\s+/g, '');
  return { binlog: { file: match[1] ?? '', position: Number(match[2]) }, gtid: gtid === '' ? null : gtid };
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

async function assertDatadirReachable(source: ConnectTarget, server: ServerDescription): Promise<void> {
  const { endpoint } = source.dsn;
  const local =
    endpoint.kind === 'socket' || LOOPBACK.has(endpoint.host) || server.identity.hostname === hostname();
  if (!local) {
    throw new SalvageError(
      'BACKUP_NEEDS_LOCAL_SERVER',
      `${describeTarget(source)} runs on ${server.identity.hostname}, not on this host (${hostname()}).`,
      { context: { server: describeTarget(source) } },
    );
  }
  const datadir = server.identity.datadir;
  try {
    await access(datadir, constants.R_OK | constants.X_OK);
  } catch (error) {
    throw new SalvageError(
      'BACKUP_NEEDS_LOCAL_SERVER',
      `The data directory ${datadir} of ${describeTarget(source)} cannot be read from here (${(error as NodeJS.ErrnoException).code}).`,
      {
        hint: 'Run salvage as a user that can read the data directory (e.g. mysql or root), or use --method logical.',
        context: { datadir },
      },
    );
  }
}

/**
 * Restores a physical backup into a new sandbox: the stream is extracted
 * (its SHA-256 checked as it is read; a mismatch aborts before anything
 * starts), prepared, and a sandbox is started on the result.
 * The restored server keeps the source's accounts: the sandbox must still let
 * root in from 127.0.0.1 without a password, which holds for sandbox sources.
 */
export async function restorePhysicalBackup(
  repo: Repository,
  manifest: BackupManifest,
  workDir: string,
  createSandbox: () => Promise<Sandbox>,
): Promise<Sandbox> {
  const tools = TOOLS[manifest.server.flavor];
  const extractor = findTool(tools.stream);
  const preparer = findTool(tools.backup);
  const file = manifest.files.find((f) => f.path === `${PHYSICAL_STREAM}.gz`);
  if (file === undefined) {
    throw new SalvageError('BACKUP_CHECKSUM', `Backup ${manifest.id} lists no ${PHYSICAL_STREAM}.gz.`, {
      context: { backup: manifest.id },
    });
  }
  const datadir = join(workDir, 'data');
  await mkdir(datadir, { recursive: true });
  const extract = runTool(extractor, ['-x', '-C', datadir], { stdin: 'pipe' });
  const stdin = extract.child.stdin;
  if (stdin === null) throw new SalvageError('INTERNAL', `${extractor} has no stdin pipe.`);
  const [streamed, extracted] = await Promise.allSettled([
    pipeline(await openBackupFile(repo, manifest, file), stdin),
    extract.exited,
  ]);
  const failed = [streamed, extracted].find((r) => r.status === 'rejected');
  if (failed !== undefined) {
    extract.child.kill('SIGTERM');
    // Damaged bytes can make the extractor fail before the stream's hash is complete: name the file then.
    await assertBackupFileIntact(repo, manifest, file);
    throw failed.reason;
  }
  await runTool(preparer, ['--no-defaults', '--prepare', `--target-dir=${datadir}`]).exited;

  const sandbox = await createSandbox();
  try {
    await sandbox.stop();
    await replaceDirectoryContents(sandbox.datadir, datadir);
    await sandbox.start();
  } catch (error) {
    await sandbox.destroy();
    throw error;
  }
  return sandbox;
}

/** Empties `target` and moves everything from `source` into it (same file system). */
async function replaceDirectoryContents(target: string, source: string): Promise<void> {
  for (const name of await readdir(target)) await rm(join(target, name), { recursive: true, force: true });
  for (const name of await readdir(source)) await rename(join(source, name), join(target, name));
}
