/**
 * The MariaDB client tools undo runs (mariadb-dump, mariadb), as pipelines:
 * any failure is TOOL_FAILED with its stderr. Passwords go to a child's
 * environment only, never to its command line.
 */
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { SalvageError } from '../errors.js';
import type { ConnectTarget } from '../mysql/index.js';

/** Host, port or socket, and user of `target`, as client options. */
export function clientArgs(target: ConnectTarget): string[] {
  const endpoint = target.dsn.endpoint;
  return [
    ...(endpoint.kind === 'tcp' ? ['-h', endpoint.host, '-P', String(endpoint.port)] : ['-S', endpoint.path]),
    '-u',
    target.user,
  ];
}

/** The environment that gives a client tool `target`'s password. */
export function clientEnv(target: ConnectTarget): Record<string, string> {
  return target.password === undefined ? {} : { MYSQL_PWD: target.password.reveal() };
}

export type Step = [string, string[], Record<string, string>];

export function run(command: string, args: string[], env: Record<string, string>): Promise<void> {
  return pipe([command, args, env]);
}

/** Runs the commands as a pipeline; the last one's output goes to `into` (else nowhere). */
export async function pipe(...steps: Step[]): Promise<void> {
  return pipeInto(undefined, ...steps);
}

/** pipe, with the last command's output written to `into`. */
export async function pipeInto(into: Writable | undefined, ...steps: Step[]): Promise<void> {
  const children = steps.map(([command, args, env]) =>
    spawn(command, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] }),
  );
  for (let i = 0; i + 1 < children.length; i++)
    children[i]?.stdout.pipe(children[i + 1]?.stdin as NodeJS.WritableStream);
  children[0]?.stdin.end();
  await Promise.all(
    children.map(
      (child, i) =>
        new Promise<void>((resolve, reject) => {
          let stderr = '';
          child.stderr.on('data', (chunk: Buffer) => {
            stderr += chunk.toString();
          });
          if (i === children.length - 1) {
            if (into === undefined) child.stdout.resume();
            else child.stdout.pipe(into, { end: false });
          }
          child.on('error', (error) =>
            reject(new SalvageError('TOOL_FAILED', `${steps[i]?.[0]}: ${error.message}`)),
          );
          child.on('close', (code) => {
            if (code === 0) resolve();
            else
              reject(
                new SalvageError('TOOL_FAILED', `${steps[i]?.[0]} exited with ${code}: ${stderr.trim()}`),
              );
          });
        }),
    ),
  );
}
