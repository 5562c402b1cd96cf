/**
 * Sandboxes across processes: the CLI's detached servers, and process-lifetime
 * servers that must die with the process that started them.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listSandboxes, removeOrphanedSandboxes } from '../../src/environment/index.js';
import { runSalvage } from '../support/cli.js';
import { isProcessAlive } from '../support/sandbox.js';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

function run(
  program: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      program,
      [...args],
      { env: { ...process.env, ...env }, timeout: 120_000 },
      (error, stdout, stderr) =>
        done({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 99, stdout, stderr }),
    );
  });
}

async function waitUntilGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isProcessAlive(pid)) return true;
    await sleep(50);
  }
  return !isProcessAlive(pid);
}

let home: string;
const leftovers: number[] = [];

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'salvage-home-'));
});

afterAll(async () => {
  for (const pid of leftovers) if (isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
  await rm(home, { recursive: true, force: true });
});

describe('salvage sandbox CLI', () => {
  it('creates a detached sandbox the mariadb client can use, lists it, and destroys it by DSN', async () => {
    const env = { SALVAGE_HOME: home };
    const created = await runSalvage(['sandbox', 'create', '--json'], { env });
    expect(created.stderr).toBe('');
    expect(created.code, created.stdout).toBe(0);
    const sandbox = JSON.parse(created.stdout) as { dsn: string; port: number; pid: number; datadir: string };
    leftovers.push(sandbox.pid);
    expect(sandbox.dsn).toBe(`mysql://root@127.0.0.1:${sandbox.port}`);
    expect(sandbox.datadir.startsWith(join(home, 'sandboxes'))).toBe(true);

    // The CLI process has exited; the server must still be there.
    const url = new URL(sandbox.dsn);
    const client = await run('mariadb', [
      '-h',
      url.hostname,
      '-P',
      url.port,
      '-u',
      url.username,
      '-N',
      '-e',
      'SELECT @@log_bin, @@binlog_format',
    ]);
    expect(client.stderr).toBe('');
    expect(client.stdout.trim().split('\t')).toEqual(['1', 'ROW']);

    const listed = await runSalvage(['sandbox', 'list', '--json'], { env });
    expect(listed.code).toBe(0);
    const { sandboxes } = JSON.parse(listed.stdout) as { sandboxes: { dsn: string; running: boolean }[] };
    expect(sandboxes).toEqual([expect.objectContaining({ dsn: sandbox.dsn, running: true })]);

    const destroyed = await runSalvage(['sandbox', 'destroy', sandbox.dsn, '--json'], { env });
    expect(destroyed.code).toBe(0);
    expect(JSON.parse(destroyed.stdout)).toEqual({ destroyed: [expect.stringMatching(/^sandbox-/)] });
    expect(await waitUntilGone(sandbox.pid, 5_000)).toBe(true);
    expect(existsSync(dirname(sandbox.datadir))).toBe(false);
    expect(await listSandboxes({ baseDir: join(home, 'sandboxes') })).toEqual([]);
  });

  it('answers a bad port and an unknown sandbox with usage errors and their codes', async () => {
    const env = { SALVAGE_HOME: home };
    const badPort = await runSalvage(['sandbox', 'create', '--port', '99999', '--json'], { env });
    expect(badPort.code).toBe(2);
    expect(JSON.parse(badPort.stdout)).toMatchObject({ error: { code: 'USAGE' } });
    const unknown = await runSalvage(['sandbox', 'destroy', 'no-such-sandbox'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('SANDBOX_NOT_FOUND');
  });
});

describe('process-lifetime sandbox', () => {
  it('dies when the process that created it is killed with SIGKILL', async () => {
    const baseDir = join(home, 'owned');
    const entry = pathToFileURL(join(root, 'dist', 'environment', 'index.js')).href;
    const script = `
      const { createSandbox } = await import(${JSON.stringify(entry)});
      const s = await createSandbox({ baseDir: ${JSON.stringify(baseDir)}, lifetime: 'process' });
      process.stdout.write(JSON.stringify({ pid: s.pid, dir: s.dir }) + '\\n');
      setInterval(() => {}, 60_000);
    `;
    const owner = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      let text = '';
      owner.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes('\n')) resolve(text);
      });
      owner.once('exit', (code) =>
        reject(new Error(`the owner exited with ${code} before creating a sandbox`)),
      );
    });
    const server = JSON.parse(line) as { pid: number; dir: string };
    leftovers.push(server.pid);
    expect(isProcessAlive(server.pid)).toBe(true);

    owner.kill('SIGKILL');
    expect(await waitUntilGone(server.pid, 10_000)).toBe(true);

    // What the killed owner left on disk is cleaned up by the next run.
    expect(existsSync(server.dir)).toBe(true);
    expect(await removeOrphanedSandboxes({ baseDir })).toHaveLength(1);
    expect(existsSync(server.dir)).toBe(false);
  });
});
