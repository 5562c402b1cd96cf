/**
 * What the incident tests share: the salvage CLI run as a real process, a
 * stable SALVAGE_HOME (its data-directory templates make restore sandboxes
 * start in about a second), checksums of the shop tables on any server, and
 * clean-up of the detached sandboxes recover leaves.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import mysql from 'mysql2/promise';
import { attachSandbox } from '../../src/environment/index.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const TEST_HOME = join(tmpdir(), 'salvage-test-incident-home');
export const TEST_BASE = join(TEST_HOME, 'sandboxes');

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

// bin/salvage rebuilds dist/ whenever a source file is newer: once per test file is enough,
// then the built entry is run directly so a source edited meanwhile costs no rebuild per process.
let built: Promise<CliResult> | undefined;
const ENTRY = `import { main } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist', 'cli', 'main.js')).href)};
process.exitCode = await main(process.argv.slice(1));`;

/** Builds dist/ when a source is newer (call it from beforeAll: a build can take a while). */
export async function ensureBuilt(): Promise<void> {
  built ??= spawnCli([join(ROOT, 'bin', 'salvage'), '--version'], {});
  const build = await built;
  if (build.code !== 0) throw new Error(`salvage does not build: ${build.stderr}`);
}

/** Runs `salvage ARGS` as its own process with SALVAGE_HOME set to the test home. */
export async function salvage(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  await ensureBuilt();
  return spawnCli(['--input-type=module', '-e', ENTRY, ...args], env);
}

function spawnCli(argv: readonly string[], env: Record<string, string>): Promise<CliResult> {
  const started = performance.now();
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, argv, {
      cwd: ROOT,
      env: { ...process.env, SALVAGE_HOME: TEST_HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
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

export const SHOP_TABLES = ['customers', 'orders', 'order_items', 'flyway_schema_history'];

/** CHECKSUM TABLE of every shop table on the server at `port`. */
export async function shopChecksums(port: number): Promise<Record<string, string>> {
  const conn = await mysql.createConnection({
    host: '127.0.0.1',
    port,
    user: 'root',
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  try {
    const [rows] = await conn.query(
      `CHECKSUM TABLE ${SHOP_TABLES.map((t) => `shop.${t}`).join(', ')} EXTENDED`,
    );
    return Object.fromEntries(
      (rows as { Table: string; Checksum: string }[]).map((r) => [r.Table, String(r.Checksum)]),
    );
  } finally {
    await conn.end();
  }
}

export function portOf(dsn: string): number {
  return Number(/:(\d+)(\/|$)/.exec(dsn)?.[1]);
}

/** Destroys the restore sandbox an incident left (it is detached: it outlives recover by design). */
export async function destroyIncidentSandbox(name: string): Promise<void> {
  const sandbox = await attachSandbox(name, { baseDir: TEST_BASE }).catch(() => undefined);
  await sandbox?.destroy();
}

/** Pids of mariadbd processes whose command line mentions `fragment`. */
export function serversMentioning(fragment: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes('mariadbd') || cmdline.includes('mysqld')) {
        if (cmdline.includes(fragment)) pids.push(Number(entry));
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}
