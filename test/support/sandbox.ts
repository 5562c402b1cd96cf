/**
 * The one way integration tests get a server: a real MariaDB sandbox that dies
 * with the test process and is destroyed after the test file.
 *
 *   const server = await startSandbox();                         // binlog on, ROW/FULL
 *   const other = await startSandbox({ binlog: false });
 *   const minimal = await startSandbox({ serverOptions: { binlog_row_image: 'MINIMAL' } });
 *   await sql(server, 'CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY)');
 *   const rows = await sql<{ n: number }>(server, 'SELECT COUNT(*) AS n FROM app.t WHERE id > ?', [1]);
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll } from 'vitest';
import {
  createSandbox,
  removeOrphanedSandboxes,
  type Sandbox,
  type SandboxOptions,
} from '../../src/environment/index.js';

export type { Sandbox } from '../../src/environment/index.js';

/** Test sandboxes live here, never in ~/.salvage. */
export const TEST_SANDBOX_BASE = join(tmpdir(), 'salvage-test-sandboxes');

const started = new Set<Sandbox>();
let orphansRemoved: Promise<unknown> | undefined;

// Registered when a test file imports this helper: whatever the file started goes.
afterAll(async () => {
  const all = [...started];
  started.clear();
  await Promise.all(all.map((sandbox) => sandbox.destroy()));
});

/**
 * Starts a sandbox for the current test file (binlog on unless `binlog: false`).
 * It is destroyed after the file's tests; `sandbox.destroy()` ends it sooner.
 */
export async function startSandbox(options: Omit<SandboxOptions, 'lifetime'> = {}): Promise<Sandbox> {
  // A test run killed earlier leaves directories of servers that died with it.
  orphansRemoved ??= removeOrphanedSandboxes({ baseDir: TEST_SANDBOX_BASE }).catch(() => undefined);
  await orphansRemoved;
  const sandbox = await createSandbox({ baseDir: TEST_SANDBOX_BASE, ...options, lifetime: 'process' });
  started.add(sandbox);
  const destroy = sandbox.destroy;
  return Object.assign(sandbox, {
    destroy: async () => {
      started.delete(sandbox);
      await destroy();
    },
  });
}

/** A mysql2 connection to the sandbox as root (multiple statements allowed); close it with `end()`. */
export function connect(sandbox: Sandbox, database?: string): Promise<mysql.Connection> {
  return mysql.createConnection({
    host: '127.0.0.1',
    port: sandbox.port,
    user: 'root',
    database,
    multipleStatements: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
  });
}

/**
 * Runs `query` on a fresh connection and returns its rows (for several
 * statements, the rows of the last one that returns rows).
 */
export async function sql<Row = Record<string, unknown>>(
  sandbox: Sandbox,
  query: string,
  params: readonly unknown[] = [],
): Promise<Row[]> {
  const connection = await connect(sandbox);
  try {
    const [result] = await connection.query(query, [...params]);
    if (!Array.isArray(result)) return [];
    // Several statements give one result per statement.
    if (result.length > 0 && (Array.isArray(result[0]) || isHeader(result[0]))) {
      const sets = (result as unknown[]).filter(Array.isArray);
      return (sets.at(-1) ?? []) as Row[];
    }
    return result as Row[];
  } finally {
    await connection.end();
  }
}

function isHeader(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'affectedRows' in value && 'insertId' in value;
}

/**
 * Whether `pid` is a live process, checked independently of the sandbox code:
 * a zombie (dead, not yet reaped) counts as gone.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/\)\s+Z\s/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
