/**
 * What the incident tests share: the salvage CLI run as a real process, a
 * stable SALVAGE_HOME (its data-directory templates make restore sandboxes
 * start in about a second), checksums of the shop tables on any server, and
 * clean-up of the detached sandboxes recover leaves.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { attachSandbox } from '../../src/environment/index.js';
import { type CliRun, runSalvage } from '../support/cli.js';

export const TEST_HOME = join(tmpdir(), 'salvage-test-incident-home');
export const TEST_BASE = join(TEST_HOME, 'sandboxes');

/** Runs `salvage ARGS` as its own process with SALVAGE_HOME set to the test home. */
export function salvage(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runSalvage(args, { env: { SALVAGE_HOME: TEST_HOME, ...env } });
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
