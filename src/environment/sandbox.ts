/**
 * Sandboxes: throwaway local servers made from the installed binaries, each
 * with its own directory and port. They are the restore environments, and the
 * servers every integration test runs against.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createConnection } from 'mysql2/promise';
import { SalvageError } from '../errors.js';
import { type FindBinariesOptions, findServerBinaries, type ServerBinaries } from './binaries.js';
import { copyFreshDatadir, sizingArgs } from './datadir.js';
import { endServer, isServerAlive, type SandboxLifetime, spawnServer } from './process.js';
import { defaultBaseDir, readRegistry, type SandboxRecord, updateRegistry } from './registry.js';
import { tail } from './server-log.js';

export type { SandboxLifetime } from './process.js';
export type { SandboxRecord } from './registry.js';

export interface SandboxOptions {
  /** Default `sandbox-<port>`. Letters, digits, `.`, `_`, `-`. */
  readonly name?: string;
  /** Where sandboxes and the registry live; default `$SALVAGE_HOME/sandboxes` or `~/.salvage/sandboxes`. */
  readonly baseDir?: string;
  /** The sandbox's own directory; default `<baseDir>/<name>`. Must not exist. */
  readonly dir?: string;
  /** Default: a free port. A taken port is a PORT_IN_USE error. */
  readonly port?: number;
  /** Binary log on (ROW, FULL image, GTID, annotations, CRC32). Default true. */
  readonly binlog?: boolean;
  /**
   * Extra server options, applied last so they override ours, e.g.
   * `{ binlog_row_image: 'MINIMAL', binlog_row_metadata: 'FULL' }`. `true`/`false` mean ON/OFF.
   */
  readonly serverOptions?: Readonly<Record<string, string | number | boolean>>;
  /** Default `process`: the server dies with the process that created it. */
  readonly lifetime?: SandboxLifetime;
  /** How long to wait for the server to accept connections. Default 60 s. */
  readonly startTimeoutMs?: number;
  /**
   * The creator fills it before anyone may use it (a restore): until
   * `markReady()`, the sandbox is removed once its creator is gone, even a detached one.
   */
  readonly provisional?: boolean;
  /** Where to look for mariadbd/mysqld. */
  readonly binaries?: FindBinariesOptions;
}

/** A running (or stopped) sandbox and what can be done with it. */
export interface Sandbox extends Readonly<SandboxRecord> {
  /** The registry it belongs to. */
  readonly baseDir: string;
  /** True while its server process runs. */
  isRunning(): boolean;
  /** Shuts the server down cleanly (SIGTERM, then SIGKILL after a grace period); keeps its data. */
  stop(options?: { graceMs?: number }): Promise<void>;
  /** Starts a stopped sandbox again on the same port, with the same options. */
  start(options?: { lifetime?: SandboxLifetime; startTimeoutMs?: number }): Promise<void>;
  /** Kills the server and removes its directory and registry entry. */
  destroy(): Promise<void>;
  /** A provisional sandbox is complete: it stays when its creator exits. */
  markReady(): Promise<void>;
}

/** What `salvage sandbox list` shows. */
export interface SandboxStatus extends SandboxRecord {
  readonly running: boolean;
}

/** The file that marks a directory as one of our sandboxes. */
const MARKER = 'salvage-sandbox.json';
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
// sun_path holds 108 bytes on Linux, 104 on macOS.
const MAX_SOCKET_PATH = 100;
const DEFAULT_START_TIMEOUT_MS = 60_000;

interface Layout {
  readonly dir: string;
  readonly datadir: string;
  readonly binlogDir: string;
  readonly runDir: string;
  readonly socket: string;
  readonly errorLog: string;
}

function layoutOf(dir: string): Layout {
  const runDir = join(dir, 'run');
  let socket = join(runDir, 'mysqld.sock');
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    socket = join(tmpdir(), `salvage-${randomBytes(6).toString('hex')}.sock`);
  }
  return {
    dir,
    // binlog/ and run/ sit beside data/: inside it the server would list them as databases.
    datadir: join(dir, 'data'),
    binlogDir: join(dir, 'binlog'),
    runDir,
    socket,
    errorLog: join(dir, 'error.log'),
  };
}

/**
 * Creates a sandbox: a new data directory, a server started on it, ready for
 * connections as root without password on 127.0.0.1. On any failure nothing
 * is left behind: no process, no directory, no registry entry.
 */
export async function createSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const baseDir = resolve(options.baseDir ?? defaultBaseDir());
  await removeAbandonedSandboxes(baseDir);
  if (options.name !== undefined && !NAME.test(options.name)) {
    throw new SalvageError('BAD_INPUT', `Sandbox name "${options.name}" is not valid.`, {
      hint: 'Use up to 64 letters, digits, dots, underscores and dashes, starting with a letter or digit.',
    });
  }
  const binaries = findServerBinaries(options.binaries);
  if (options.port !== undefined) await assertPortFree(options.port);
  let port = options.port ?? (await freePort());
  const name = options.name ?? (await defaultName(baseDir, port));
  const layout = layoutOf(resolve(options.dir ?? join(baseDir, name)));
  await reserve(baseDir, name, layout.dir);

  const binlog = options.binlog ?? true;
  const serverOptions = normalizeOptions(options.serverOptions ?? {});
  const lifetime = options.lifetime ?? 'process';
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  try {
    const serverId = await uniqueServerId(baseDir);
    await Promise.all(
      [layout.datadir, layout.binlogDir, layout.runDir].map((d) => mkdir(d, { recursive: true })),
    );
    await copyFreshDatadir(binaries, join(baseDir, '.templates'), layout.datadir);
    let started: Started | undefined;
    // A port picked by us can be taken by someone else before the server binds it.
    for (let attempt = 1; started === undefined; attempt++) {
      const args = serverArgs(binaries, layout, { port, serverId, binlog, serverOptions });
      try {
        started = await startServer(binaries, args, layout, lifetime, port, timeoutMs);
      } catch (error) {
        if (!(error instanceof PortTaken) || options.port !== undefined || attempt >= 3) throw error;
        port = await freePort();
      }
    }
    const record: SandboxRecord = {
      name,
      dir: layout.dir,
      datadir: layout.datadir,
      dsn: `mysql://root@127.0.0.1:${port}`,
      port,
      socket: layout.socket,
      pid: started.pid,
      flavor: binaries.flavor,
      version: binaries.version,
      serverId,
      binlog,
      serverOptions,
      lifetime,
      ownerPid: process.pid,
      ...(options.provisional ? { provisional: true } : {}),
      createdAt: new Date().toISOString(),
    };
    await writeFile(join(layout.dir, MARKER), `${JSON.stringify(record, null, 2)}\n`);
    await updateRegistry(baseDir, (sandboxes) => sandboxes.set(name, record));
    return sandboxHandle(baseDir, record, started.child);
  } catch (error) {
    await removeLeftovers(layout);
    throw error instanceof PortTaken
      ? new SalvageError('PORT_IN_USE', `Port ${port} is already in use.`, { context: { port } })
      : error;
  }
}

/** Every registered sandbox with whether its server runs. */
export async function listSandboxes(options: { baseDir?: string } = {}): Promise<SandboxStatus[]> {
  const baseDir = resolve(options.baseDir ?? defaultBaseDir());
  await removeAbandonedSandboxes(baseDir);
  const records = await readRegistry(baseDir);
  return records
    .map((record) => ({ ...record, running: isServerAlive(record.pid, record.datadir) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The registered sandbox named `ref`, or whose DSN is `ref` (any
 * `mysql://…@127.0.0.1|localhost:PORT` of one of ours).
 */
export async function attachSandbox(ref: string, options: { baseDir?: string } = {}): Promise<Sandbox> {
  const baseDir = resolve(options.baseDir ?? defaultBaseDir());
  const records = await readRegistry(baseDir);
  const port = portOfDsn(ref);
  const record = records.find(
    (r) => r.name === ref || r.dsn === ref || (port !== undefined && r.port === port),
  );
  if (record === undefined) {
    throw new SalvageError('SANDBOX_NOT_FOUND', `No sandbox "${ref}" in ${baseDir}.`, { context: { ref } });
  }
  return sandboxHandle(baseDir, record, undefined);
}

/**
 * Destroys the sandboxes whose creating process died and took their server
 * with it (lifetime `process`): what a killed test run leaves behind.
 */
export async function removeOrphanedSandboxes(options: { baseDir?: string } = {}): Promise<string[]> {
  const baseDir = resolve(options.baseDir ?? defaultBaseDir());
  const orphans = (await readRegistry(baseDir)).filter(
    (r) => r.lifetime === 'process' && !isServerAlive(r.ownerPid) && !isServerAlive(r.pid, r.datadir),
  );
  for (const record of orphans) await sandboxHandle(baseDir, record, undefined).destroy();
  return [...orphans.map((r) => r.name), ...(await removeAbandonedSandboxes(baseDir))];
}

/** Destroys provisional sandboxes whose creator died before marking them ready: half-done restores. */
async function removeAbandonedSandboxes(baseDir: string): Promise<string[]> {
  const abandoned = (await readRegistry(baseDir)).filter((r) => r.provisional && !isServerAlive(r.ownerPid));
  for (const record of abandoned) await sandboxHandle(baseDir, record, undefined).destroy();
  return abandoned.map((r) => r.name);
}

function portOfDsn(ref: string): number | undefined {
  const match = /^mysql:\/\/[^@/]*@(?:127\.0\.0\.1|localhost|\[::1\]):(\d+)(?:[/?].*)?$/.exec(ref);
  return match === null ? undefined : Number(match[1]);
}

function sandboxHandle(
  baseDir: string,
  initial: SandboxRecord,
  initialChild: ChildProcess | undefined,
): Sandbox {
  let record = initial;
  let child = initialChild;
  const handle: Sandbox = {
    ...initial,
    baseDir,
    isRunning: () => isServerAlive(record.pid, record.datadir),
    async stop({ graceMs = 30_000 } = {}) {
      await endServer(record.pid, record.datadir, { signal: 'SIGTERM', graceMs, child });
    },
    async start({ lifetime = record.lifetime, startTimeoutMs = DEFAULT_START_TIMEOUT_MS } = {}) {
      if (isServerAlive(record.pid, record.datadir)) return;
      const binaries = findServerBinaries();
      const layout = { ...layoutOf(record.dir), socket: record.socket };
      const args = serverArgs(binaries, layout, record);
      let started: Started;
      try {
        started = await startServer(binaries, args, layout, lifetime, record.port, startTimeoutMs);
      } catch (error) {
        throw error instanceof PortTaken
          ? new SalvageError('PORT_IN_USE', `Port ${record.port} of sandbox ${record.name} is taken.`)
          : error;
      }
      child = started.child;
      record = { ...record, pid: started.pid, lifetime, ownerPid: process.pid };
      Object.assign(handle, { pid: record.pid, lifetime, ownerPid: record.ownerPid });
      await updateRegistry(baseDir, (sandboxes) => sandboxes.set(record.name, record));
    },
    async markReady() {
      if (!record.provisional) return;
      record = { ...record, provisional: false };
      Object.assign(handle, { provisional: false });
      await updateRegistry(baseDir, (sandboxes) => sandboxes.set(record.name, record));
    },
    async destroy() {
      // The data is about to be deleted, so a clean shutdown buys nothing.
      await endServer(record.pid, record.datadir, { signal: 'SIGKILL', graceMs: 10_000, child });
      await removeLeftovers(layoutOf(record.dir), record.socket);
      await updateRegistry(baseDir, (sandboxes) => sandboxes.delete(record.name));
    },
  };
  return handle;
}

async function removeLeftovers(layout: Layout, socket = layout.socket): Promise<void> {
  await rm(layout.dir, { recursive: true, force: true, maxRetries: 3 });
  await rm(socket, { force: true });
}

async function defaultName(baseDir: string, port: number): Promise<string> {
  const taken = new Set((await readRegistry(baseDir)).map((r) => r.name));
  const name = `sandbox-${port}`;
  return taken.has(name) ? `${name}-${randomBytes(2).toString('hex')}` : name;
}

/**
 * Claims the name and directory. mkdir of the last component is atomic, so two
 * creators of the same sandbox cannot both win.
 */
async function reserve(baseDir: string, name: string, dir: string): Promise<void> {
  if ((await readRegistry(baseDir)).some((r) => r.name === name)) {
    throw new SalvageError('SANDBOX_EXISTS', `A sandbox named "${name}" already exists.`, {
      context: { name },
    });
  }
  await mkdir(dirname(dir), { recursive: true });
  try {
    await mkdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const ours = await stat(join(dir, MARKER)).then(
      () => true,
      () => false,
    );
    throw ours
      ? new SalvageError('SANDBOX_EXISTS', `${dir} already holds a sandbox.`, { context: { name, dir } })
      : new SalvageError('DATADIR_EXISTS', `${dir} already exists and is not a salvage sandbox.`, {
          context: { dir },
        });
  }
}

async function uniqueServerId(baseDir: string): Promise<number> {
  const used = new Set((await readRegistry(baseDir)).map((r) => r.serverId));
  for (;;) {
    // Random rather than sequential: a restore must not share the source's id.
    const id = randomInt(2, 2 ** 31);
    if (!used.has(id)) return id;
  }
}

function normalizeOptions(
  options: Readonly<Record<string, string | number | boolean>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(options)) {
    if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(key)) {
      throw new SalvageError('BAD_INPUT', `"${key}" is not a server option name.`, {
        hint: 'Give server options as name=value, e.g. binlog_row_image=MINIMAL.',
      });
    }
    out[key] = typeof value === 'boolean' ? (value ? 'ON' : 'OFF') : String(value);
  }
  return out;
}

interface ServerConfig {
  readonly port: number;
  readonly serverId: number;
  readonly binlog: boolean;
  readonly serverOptions: Readonly<Record<string, string>>;
}

function serverArgs(binaries: ServerBinaries, layout: Layout, config: ServerConfig): string[] {
  const args = [
    '--no-defaults',
    `--datadir=${layout.datadir}`,
    `--port=${config.port}`,
    '--bind-address=127.0.0.1',
    `--socket=${layout.socket}`,
    // Its own temporary files, not the shared /tmp where other processes clean up.
    `--tmpdir=${layout.runDir}`,
    `--pid-file=${join(layout.runDir, 'mysqld.pid')}`,
    `--log-error=${layout.errorLog}`,
    '--skip-name-resolve',
    `--server-id=${config.serverId}`,
    ...sizingArgs(binaries),
  ];
  if (binaries.flavor === 'mariadb') args.push('--character-set-server=utf8mb4');
  // MySQL 8 would otherwise open the X protocol on 33060, which parallel sandboxes would fight over.
  else args.push('--mysqlx=OFF');
  if (config.binlog) {
    args.push(
      `--log-bin=${join(layout.binlogDir, 'binlog')}`,
      '--binlog-format=ROW',
      '--binlog-row-image=FULL',
      '--binlog-checksum=CRC32',
    );
    if (binaries.flavor === 'mariadb') args.push('--binlog-annotate-row-events=ON', '--gtid-strict-mode=ON');
    else args.push('--binlog-rows-query-log-events=ON', '--gtid-mode=ON', '--enforce-gtid-consistency=ON');
  } else {
    // MySQL 8 logs by default; MariaDB accepts the same switch.
    args.push('--skip-log-bin');
  }
  for (const [key, value] of Object.entries(config.serverOptions)) args.push(`--${key}=${value}`);
  return args;
}

interface Started {
  readonly child: ChildProcess;
  readonly pid: number;
}

class PortTaken extends Error {}

async function startServer(
  binaries: ServerBinaries,
  args: readonly string[],
  layout: Layout,
  lifetime: SandboxLifetime,
  port: number,
  timeoutMs: number,
): Promise<Started> {
  const logStart = await stat(layout.errorLog).then(
    (s) => s.size,
    () => 0,
  );
  const { child, pid } = spawnServer(binaries.server, args, lifetime);
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const failure = async (why: string): Promise<never> => {
    await endServer(pid, layout.datadir, { signal: 'SIGKILL', graceMs: 10_000, child });
    const log = await tail(layout.errorLog, logStart);
    if (/Address already in use|Bind on TCP\/IP port/i.test(log)) throw new PortTaken(log);
    throw new SalvageError('SERVER_START_FAILED', `The sandbox server ${why}. Its log ends with:\n${log}`, {
      hint: 'Read the server log above; the sandbox was removed.',
      context: { server: binaries.server, port },
    });
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) return failure('exited during start');
    if (Date.now() > deadline) return failure(`did not accept connections within ${timeoutMs} ms`);
    const outcome = await tryConnect(port);
    if (outcome === 'ready') return { child, pid };
    if (outcome !== 'retry') return failure(`refused the root login (${outcome})`);
    await sleep(50);
  }
}

/** `ready`, `retry` (not listening yet), or the reason a retry cannot help. */
async function tryConnect(port: number): Promise<'ready' | 'retry' | string> {
  try {
    const connection = await createConnection({
      host: '127.0.0.1',
      port,
      user: 'root',
      connectTimeout: 2_000,
    });
    try {
      await connection.query('SELECT 1');
    } finally {
      await connection.end().catch(() => connection.destroy());
    }
    return 'ready';
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_HOST_NOT_PRIVILEGED') return code;
    return 'retry';
  }
}

async function assertPortFree(port: number): Promise<void> {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new SalvageError('BAD_INPUT', `Port ${port} is not a TCP port number.`, {
      hint: 'Give a port from 1 to 65535, or omit it to let salvage pick a free one.',
    });
  }
  const error = await listenOnce(port).then(
    () => undefined,
    (e: NodeJS.ErrnoException) => e,
  );
  if (error?.code === 'EADDRINUSE') {
    throw new SalvageError('PORT_IN_USE', `Port ${port} on 127.0.0.1 is already in use.`, {
      context: { port },
    });
  }
  if (error !== undefined) {
    throw new SalvageError('BAD_INPUT', `Cannot listen on port ${port}: ${error.message}`, {
      context: { port },
    });
  }
}

async function freePort(): Promise<number> {
  return listenOnce(0);
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address !== null ? address.port : port));
    });
  });
}
