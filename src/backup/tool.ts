/**
 * Running the reference tools (mariabackup/xtrabackup, mbstream/xbstream) as
 * child processes: found on PATH, given credentials through a private option
 * file rather than argv (which every user can read in ps), and their stderr
 * kept so a failure shows the tool's own last words.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { SalvageError } from '../errors.js';
import type { ConnectTarget } from '../mysql/index.js';

/** The first of `names` found on PATH; none is TOOL_MISSING. */
export function findTool(names: readonly string[]): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const name of names) {
      if (dir === '') continue;
      const path = join(dir, name);
      try {
        accessSync(path, constants.X_OK);
        return path;
      } catch {
        // keep looking
      }
    }
  }
  throw new SalvageError('TOOL_MISSING', `${names.join(' or ')} is not installed (not found on PATH).`, {
    context: { tool: names[0] },
  });
}

/** The version the tool reports, e.g. "10.11.6-MariaDB" from `mariabackup --version`. */
export function toolVersion(program: string): Promise<string> {
  return new Promise((resolve) => {
    execFile(program, ['--version'], { timeout: 30_000 }, (_error, stdout, stderr) => {
      const text = `${stdout}${stderr}`;
      resolve(/(\d+\.\d+\.\d+[\w.-]*)/.exec(text)?.[1] ?? text.trim().split('\n')[0] ?? 'unknown');
    });
  });
}

/**
 * Runs `fn` with a private directory holding `client.cnf`: the target's login
 * in [client], mode 0600 inside a 0700 directory, removed afterwards whatever happens.
 */
export async function withClientOptionFile<T>(
  target: ConnectTarget,
  fn: (optionFile: string, workDir: string) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'salvage-tool-'));
  try {
    const file = join(dir, 'client.cnf');
    await writeFile(file, clientOptions(target), { mode: 0o600 });
    return await fn(file, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function clientOptions(target: ConnectTarget): string {
  const { endpoint } = target.dsn;
  const lines = ['[client]', `user=${quoteOption(target.user)}`];
  const password = target.password?.reveal();
  if (password !== undefined) lines.push(`password=${quoteOption(password)}`);
  if (endpoint.kind === 'tcp') lines.push(`host=${quoteOption(endpoint.host)}`, `port=${endpoint.port}`);
  else lines.push(`socket=${quoteOption(endpoint.path)}`);
  return `${lines.join('\n')}\n`;
}

/** Option-file values in double quotes, with the escapes my_default.c undoes. */
function quoteOption(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** A running tool: its process, and a promise that settles when it exits. */
export interface RunningTool {
  readonly child: ChildProcess;
  /** Resolves on exit status 0; otherwise rejects with TOOL_FAILED and the tool's last stderr lines. */
  readonly exited: Promise<void>;
  /** The last lines the tool wrote to stderr. */
  stderrTail(): string;
}

const TAIL_LINES = 25;

/** Starts a tool with stdout and stdin piped as asked and stderr kept. */
export function runTool(
  program: string,
  args: readonly string[],
  options: { stdin?: 'pipe' | 'ignore'; stdout?: 'pipe' | 'ignore' } = {},
): RunningTool {
  const child = spawn(program, [...args], {
    stdio: [options.stdin ?? 'ignore', options.stdout ?? 'ignore', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    const parts = `${partial}${text}`.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    if (lines.length > TAIL_LINES) lines.splice(0, lines.length - TAIL_LINES);
  });
  const stderrTail = (): string => [...lines, ...(partial ? [partial] : [])].slice(-TAIL_LINES).join('\n');
  const name = program.split('/').pop() ?? program;
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', (error) =>
      reject(
        new SalvageError('TOOL_FAILED', `${name} could not be started: ${error.message}`, { cause: error }),
      ),
    );
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else {
        const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
        reject(
          new SalvageError('TOOL_FAILED', `${name} ${how}. Its output ends with:\n${stderrTail()}`, {
            context: { tool: name, status: code, signal },
          }),
        );
      }
    });
  });
  return { child, exited, stderrTail };
}
