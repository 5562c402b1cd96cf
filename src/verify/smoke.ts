/**
 * The smoke test: the user's own command (a test suite, a curl against a
 * staging app) run with the servers' DSNs in its environment. DSNs never
 * hold passwords; when a password came from a file, the file's path is
 * passed instead, and the password variables salvage reads are removed from
 * the command's environment.
 */
import { spawn } from 'node:child_process';

export interface SmokeOptions {
  readonly command: string;
  readonly targetDsn: string;
  readonly sourceDsn: string;
  readonly targetPasswordFile?: string;
  readonly sourcePasswordFile?: string;
  readonly timeoutMs: number;
}

export interface SmokeResult {
  readonly command: string;
  readonly passed: boolean;
  readonly exit_code: number | null;
  readonly signal: string | null;
  readonly timed_out: boolean;
  readonly duration_ms: number;
  /** The last part of what the command printed (stdout and stderr interleaved). */
  readonly output: string;
}

const OUTPUT_TAIL = 4000;

export function runSmoke(options: SmokeOptions): Promise<SmokeResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.SALVAGE_PASSWORD;
  delete env.MYSQL_PWD;
  env.SALVAGE_TARGET_DSN = options.targetDsn;
  env.SALVAGE_SOURCE_DSN = options.sourceDsn;
  if (options.targetPasswordFile) env.SALVAGE_TARGET_PASSWORD_FILE = options.targetPasswordFile;
  if (options.sourcePasswordFile) env.SALVAGE_SOURCE_PASSWORD_FILE = options.sourcePasswordFile;
  const began = performance.now();
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', options.command], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (data: Buffer): void => {
      output = (output + data.toString('utf8')).slice(-OUTPUT_TAIL);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, options.timeoutMs);
    const finish = (code: number | null, signal: string | null, extra = ''): void => {
      clearTimeout(timer);
      resolve({
        command: options.command,
        passed: code === 0 && !timedOut,
        exit_code: code,
        signal,
        timed_out: timedOut,
        duration_ms: Math.round(performance.now() - began),
        output: output + extra,
      });
    };
    child.on('error', (error) => finish(null, null, error.message));
    child.on('close', (code, signal) => finish(code, signal));
  });
}
