/**
 * Starting the server process with the right lifetime, and ending it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * `process`: the server dies with the process that started it (tests).
 * `detached`: the server keeps running after it (`salvage sandbox create`).
 */
export type SandboxLifetime = 'process' | 'detached';

/**
 * Kills `pid` when the watchdog's stdin closes, which happens when its parent
 * dies however it dies. Used where setpriv is not available (macOS).
 */
const WATCHDOG = `
const pid = Number(process.argv[1]);
const end = () => { try { process.kill(pid, 'SIGKILL'); } catch {} process.exit(0); };
process.stdin.on('end', end).on('error', end).resume();
setInterval(() => { try { process.kill(pid, 0); } catch { process.exit(0); } }, 1000);
`;

export interface StartedServer {
  readonly child: ChildProcess;
  readonly pid: number;
}

/** Spawns the server; with lifetime `process` it is tied to this process. */
export function spawnServer(
  program: string,
  args: readonly string[],
  lifetime: SandboxLifetime,
): StartedServer {
  const setpriv = lifetime === 'process' && process.platform === 'linux' ? findSetpriv() : undefined;
  // PR_SET_PDEATHSIG through setpriv: the kernel kills the server when its
  // parent exits, even on kill -9, and setpriv execs so the pid is the server's.
  const child =
    setpriv !== undefined
      ? spawn(setpriv, ['--pdeathsig', 'KILL', '--', program, ...args], { stdio: 'ignore', detached: true })
      : spawn(program, [...args], { stdio: 'ignore', detached: true });
  if (child.pid === undefined) throw new Error(`could not start ${program}`);
  if (lifetime === 'detached') child.unref();
  else if (setpriv === undefined) startWatchdog(child.pid);
  return { child, pid: child.pid };
}

function startWatchdog(pid: number): void {
  const watchdog = spawn(process.execPath, ['-e', WATCHDOG, String(pid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  watchdog.unref();
  // The pipe must not keep this process alive; its end is the signal.
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
}

let setprivPath: string | null | undefined;
function findSetpriv(): string | undefined {
  if (setprivPath === undefined) {
    setprivPath = null;
    for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/bin']) {
      if (dir === '') continue;
      try {
        accessSync(join(dir, 'setpriv'), constants.X_OK);
        setprivPath = join(dir, 'setpriv');
        break;
      } catch {
        // keep looking
      }
    }
  }
  return setprivPath ?? undefined;
}

/**
 * True when `pid` runs and, when `marker` is given and /proc can tell, its
 * command line contains it — so a recycled pid is not mistaken for our server.
 */
export function isServerAlive(pid: number, marker?: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (process.platform !== 'linux') return true;
  try {
    // A zombie still answers kill(pid, 0) but is no server any more.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/\)\s+Z\s/.test(stat)) return false;
    if (marker === undefined) return true;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
  } catch {
    return false;
  }
}

/**
 * Sends `signal`, waits up to `graceMs` for the server to exit, then SIGKILLs
 * it and waits again. Resolves once the process is gone.
 */
export async function endServer(
  pid: number,
  marker: string,
  options: { signal: NodeJS.Signals; graceMs: number; child?: ChildProcess },
): Promise<void> {
  if (!isServerAlive(pid, marker)) return;
  signal(pid, options.signal);
  if (await waitForExit(pid, marker, options.graceMs, options.child)) return;
  signal(pid, 'SIGKILL');
  await waitForExit(pid, marker, 10_000, options.child);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

async function waitForExit(pid: number, marker: string, ms: number, child?: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    // Our own child stays a zombie until Node reaps it; exitCode/signalCode say it was reaped.
    if (child !== undefined && (child.exitCode !== null || child.signalCode !== null)) return true;
    if (child === undefined && !isServerAlive(pid, marker)) return true;
    await sleep(25);
  }
  return false;
}
