/**
 * The registry of sandboxes: one JSON file under the base directory, so that
 * `salvage sandbox list|destroy` in a later invocation finds what `create` made.
 * Several processes (parallel tests) update it: changes happen under a lock
 * directory, and the file is replaced by rename so readers never see half of it.
 */
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { SalvageError } from '../errors.js';

/** What the registry keeps about one sandbox. */
export const SandboxRecord = z.object({
  name: z.string(),
  /** The sandbox's own directory: data/, binlog/, run/, error.log. */
  dir: z.string(),
  /** The server's data directory (`datadir`). */
  datadir: z.string(),
  dsn: z.string(),
  port: z.number().int(),
  socket: z.string(),
  pid: z.number().int(),
  flavor: z.enum(['mariadb', 'mysql']),
  version: z.string(),
  serverId: z.number().int(),
  binlog: z.boolean(),
  /** Extra server options the sandbox was created with (`key` → value). */
  serverOptions: z.record(z.string(), z.string()),
  lifetime: z.enum(['process', 'detached']),
  /** The process that created it; a `process` sandbox dies with it. */
  ownerPid: z.number().int(),
  /**
   * Still being filled by its owner (a restore): if the owner dies before
   * marking it ready, the sandbox holds half a restore and is removed.
   */
  provisional: z.boolean().optional(),
  createdAt: z.string(),
});
export type SandboxRecord = z.infer<typeof SandboxRecord>;

const RegistryFile = z.object({
  version: z.literal(1),
  sandboxes: z.record(z.string(), SandboxRecord),
});
type RegistryFile = z.infer<typeof RegistryFile>;

const REGISTRY = 'registry.json';
const LOCK_STALE_MS = 30_000;

/** `$SALVAGE_HOME/sandboxes`, by default `~/.salvage/sandboxes`. */
export function defaultBaseDir(): string {
  const home = process.env.SALVAGE_HOME ?? join(homedir(), '.salvage');
  return join(home, 'sandboxes');
}

export async function readRegistry(baseDir: string): Promise<SandboxRecord[]> {
  return Object.values((await load(baseDir)).sandboxes);
}

/** Applies `change` to the registry under the lock and writes it back. */
export async function updateRegistry<T>(
  baseDir: string,
  change: (sandboxes: Map<string, SandboxRecord>) => T,
): Promise<T> {
  await mkdir(baseDir, { recursive: true });
  const release = await lock(baseDir);
  try {
    const file = await load(baseDir);
    const sandboxes = new Map(Object.entries(file.sandboxes));
    const result = change(sandboxes);
    await save(baseDir, { version: 1, sandboxes: Object.fromEntries(sandboxes) });
    return result;
  } finally {
    await release();
  }
}

async function load(baseDir: string): Promise<RegistryFile> {
  const path = join(baseDir, REGISTRY);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, sandboxes: {} };
    throw error;
  }
  const parsed = RegistryFile.safeParse(safeJson(text));
  if (!parsed.success) {
    throw new SalvageError('BAD_INPUT', `The sandbox registry ${path} is not valid.`, {
      hint: `Move ${path} away; sandboxes it listed can then be removed by hand from ${baseDir}.`,
      context: { file: path },
    });
  }
  return parsed.data;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function save(baseDir: string, file: RegistryFile): Promise<void> {
  const path = join(baseDir, REGISTRY);
  const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temp, `${JSON.stringify(file, null, 2)}\n`);
  await rename(temp, path);
}

/** mkdir is atomic: whoever creates the lock directory holds the lock. */
async function lock(baseDir: string): Promise<() => Promise<void>> {
  const path = join(baseDir, `${REGISTRY}.lock`);
  const deadline = Date.now() + 2 * LOCK_STALE_MS;
  for (;;) {
    try {
      await mkdir(path);
      return () => rm(path, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    // A holder killed mid-update leaves the lock behind; updates take milliseconds.
    const age = await stat(path).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > LOCK_STALE_MS) await rm(path, { recursive: true, force: true });
    if (Date.now() > deadline) {
      throw new SalvageError('SERVER_ERROR', `The sandbox registry in ${baseDir} stays locked.`, {
        hint: `Remove ${path} if no salvage command is running.`,
      });
    }
    await sleep(10 + Math.random() * 20);
  }
}
