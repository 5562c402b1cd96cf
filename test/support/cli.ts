/**
 * The salvage CLI as the tests run it: as a real process through bin/salvage
 * (exit codes, signals, what reaches stdout and stderr), or in this process
 * through main() when only the argv → output mapping is under test.
 */
import { spawn } from 'node:child_process';
import { main } from '../../src/cli/main.js';
import { BIN, ROOT } from './paths.js';

export interface CliRun {
  /** The exit status; null when a signal ended the process. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

export interface CliOptions {
  /** Variables set for the process; `undefined` removes one (e.g. MYSQL_PWD). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Start from the test's environment (default) or from PATH alone. */
  readonly inheritEnv?: boolean;
  /** Kill the process after this long (default 240 s: CI machines can be slow). */
  readonly timeoutMs?: number;
}

/** Runs `salvage ARGS` as its own process. */
export function runSalvage(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  const env: NodeJS.ProcessEnv =
    (options.inheritEnv ?? true) ? { ...process.env } : { PATH: process.env.PATH ?? '' };
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const started = performance.now();
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 240_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', fail);
    child.on('close', (code, signal) =>
      done({ code, signal, stdout, stderr, seconds: (performance.now() - started) / 1000 }),
    );
  });
}

/** Runs main(ARGS) in this process, capturing what it writes to stdout and stderr. */
export async function runSalvageInProcess(
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  }) as typeof process.stderr.write;
  process.exitCode = undefined;
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    process.exitCode = undefined;
  }
}
