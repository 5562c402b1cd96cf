/**
 * `salvage demo`: a whole incident on throwaway servers, in under a minute.
 * A sandbox "production" gets a shop schema and data, a backup, a workload on
 * several connections, then a bad migration (an UPDATE without WHERE, recorded
 * in Flyway's history table) while the workload keeps going; then `recover
 * --strategy surgical --yes` runs end to end and the report is printed.
 * Every sandbox is destroyed at the end unless `keep`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { createBackup } from '../backup/index.js';
import { attachSandbox, createSandbox, defaultBaseDir, type Sandbox } from '../environment/index.js';
import { type IncidentOutcome, incidentSandboxName, recover } from '../incident/index.js';
import {
  type Connection,
  type ConnectTarget,
  connect,
  parseDsn,
  resolveTarget,
  serverErrno,
} from '../mysql/index.js';
import {
  BAD_MIGRATION,
  badMigrationStatements,
  SHOP_DDL,
  seededRandom,
  seedStatements,
  shopTransaction,
} from './shop.js';

export interface DemoOptions {
  /** Leave the sandboxes running (and the work directory in place). */
  readonly keep?: boolean;
  /** Where the incident, the repository and the sandboxes go (default a new temporary directory). */
  readonly workDir?: string;
  /** Workload connections (default 4). */
  readonly connections?: number;
  /** Seconds of workload before and after the bad migration (default 2 each). */
  readonly workloadSeconds?: number;
  /** Where the sandboxes go (default $SALVAGE_HOME/sandboxes or ~/.salvage/sandboxes). */
  readonly sandboxBaseDir?: string;
  readonly onProgress?: (message: string) => void;
}

export interface DemoResult {
  readonly workDir: string;
  readonly incident: IncidentOutcome;
  readonly production: string;
  readonly transactions: { readonly before: number; readonly after: number };
  readonly seconds: number;
  /** Whether the sandboxes were left running. */
  readonly kept: boolean;
}

const CUSTOMERS = 300;
// ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT
const DEADLOCK = 1213;
const LOCK_WAIT_TIMEOUT = 1205;

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const started = performance.now();
  const progress = options.onProgress ?? (() => {});
  const workDir = options.workDir ?? (await mkdtemp(join(tmpdir(), 'salvage-demo-')));
  // The shared base keeps the data-directory templates, so the demo's servers start in about a second.
  const sandboxBase = options.sandboxBaseDir ?? defaultBaseDir();
  const productionName = `demo-production-${randomBytes(3).toString('hex')}`;
  const workloadMs = (options.workloadSeconds ?? 2) * 1000;
  let production: Sandbox | undefined;
  let incident: IncidentOutcome | undefined;
  try {
    progress('starting a sandbox "production" server');
    production = await createSandbox({
      name: productionName,
      baseDir: sandboxBase,
      lifetime: options.keep ? 'detached' : 'process',
    });
    const target = rootTarget(production);
    await runAll(target, [...SHOP_DDL, ...seedStatements(CUSTOMERS)]);
    progress(`shop schema with ${CUSTOMERS} customers, ${CUSTOMERS * 2} orders and their items`);

    const repo = pathToFileURL(join(workDir, 'repository')).href;
    const backup = await createBackup({ source: target, repo, method: 'logical' });
    progress(`backup ${backup.id} taken into ${repo}`);

    const workload = startWorkload(target, options.connections ?? 4);
    await sleep(workloadMs);
    const before = workload.transactions();
    progress(`workload running on ${options.connections ?? 4} connections: ${before} transactions so far`);
    await runMigration(target);
    progress(
      `bad migration V${BAD_MIGRATION.version} "${BAD_MIGRATION.description}" ran: ${BAD_MIGRATION.sql}`,
    );
    await sleep(workloadMs);
    await workload.stop();
    const after = workload.transactions() - before;
    progress(`${after} more transactions after it; now recovering`);

    incident = await recover({
      source: production.dsn,
      connection: { sslMode: 'disabled' },
      repo,
      migration: BAD_MIGRATION.version,
      strategy: 'surgical',
      incidentDir: join(workDir, 'incident'),
      sandboxBaseDir: sandboxBase,
      yes: true,
      onProgress: progress,
    });
    return {
      workDir,
      incident,
      production: production.dsn,
      transactions: { before, after },
      seconds: Math.round(performance.now() - started) / 1000,
      kept: options.keep === true,
    };
  } finally {
    if (!options.keep) {
      await production?.destroy().catch(() => undefined);
      // The restored sandbox is detached (it outlives recover): it goes too.
      const restored = await attachSandbox(incidentSandboxName(join(workDir, 'incident')), {
        baseDir: sandboxBase,
      }).catch(() => undefined);
      await restored?.destroy().catch(() => undefined);
    }
  }
}

/** A sandbox's login: root without password, never the user's password sources. */
function rootTarget(sandbox: Sandbox): ConnectTarget {
  return resolveTarget(parseDsn(sandbox.dsn), { env: {}, home: sandbox.dir, tls: { mode: 'disabled' } });
}

async function runAll(target: ConnectTarget, statements: readonly string[]): Promise<void> {
  const conn = await connect(target);
  try {
    for (const sql of statements) await conn.query(sql);
  } finally {
    await conn.end();
  }
}

async function runMigration(target: ConnectTarget): Promise<void> {
  const conn = await connect(target);
  try {
    for (const transaction of badMigrationStatements()) await inTransaction(conn, transaction);
  } finally {
    await conn.end();
  }
}

async function inTransaction(conn: Connection, statements: readonly string[]): Promise<void> {
  await conn.query('BEGIN');
  for (const sql of statements) await conn.query(sql);
  await conn.query('COMMIT');
}

/** Application traffic on several connections until stopped. */
function startWorkload(target: ConnectTarget, connections: number) {
  let stopping = false;
  let count = 0;
  let failure: unknown;
  const workers = Array.from({ length: connections }, async (_, worker) => {
    const random = seededRandom(1000 + worker);
    const conn = await connect(target);
    try {
      for (let step = worker; !stopping; step += connections) {
        const statements = shopTransaction(random, step, { customers: CUSTOMERS, touchCustomers: true });
        try {
          await inTransaction(conn, statements);
          count++;
        } catch (error) {
          // Concurrent orders deadlock now and then, as in production; the application retries later.
          await conn.query('ROLLBACK').catch(() => undefined);
          if (serverErrno(error) !== DEADLOCK && serverErrno(error) !== LOCK_WAIT_TIMEOUT) throw error;
        }
        await sleep(5);
      }
    } finally {
      await conn.end();
    }
  }).map((worker) =>
    // Kept until stop(): a rejection nobody awaits yet would end the process.
    worker.catch((error: unknown) => {
      failure ??= error;
      stopping = true;
    }),
  );
  return {
    transactions: () => count,
    async stop() {
      stopping = true;
      await Promise.all(workers);
      if (failure !== undefined) throw failure;
    },
  };
}
