/**
 * The steps of a recovery, each a typed call into a capability module whose
 * result is journaled. Every step can run twice: those that build something
 * (a restored sandbox) first remove what an interrupted attempt left.
 */
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { listBackups, openRepository } from '../backup/index.js';
import { readBinlog, readTransactions } from '../binlog/index.js';
import { attachSandbox, defaultBaseDir, listSandboxes } from '../environment/index.js';
import { SalvageError } from '../errors.js';
import { measureImpact, openChangeSource } from '../impact/index.js';
import {
  type ConnectTarget,
  describeTarget,
  formatDsn,
  parseDsn,
  resolveTarget,
  withConnection,
} from '../mysql/index.js';
import { restoreToPoint } from '../restore/index.js';
import { applyUndo, planUndo, rehearseUndo, tableChecksums } from '../undo/index.js';
import {
  findOrphans,
  listForeignKeys,
  readAssertions,
  runAssertions,
  verifyServers,
} from '../verify/index.js';
import { type Activity, measureActivity } from './activity.js';
import { binlogStart, type ChosenBackup, chooseBackup } from './backups.js';
import { freeze } from './freeze.js';
import type { RecoverRequest } from './incident.js';
import type { JsonObject } from './journal.js';
import { toJsonObject } from './json.js';
import { locateBadChange } from './locate-step.js';
import { planRecovery, type RecoveryPlan, type Strategy } from './plan.js';
import { writeIncidentReport } from './report-files.js';
import type { Step, StepResults } from './runner.js';

export interface RecoverContext {
  readonly dir: string;
  readonly request: RecoverRequest;
  readonly source: ConnectTarget;
  readonly progress: (message: string) => void;
  /** The test hook: SIGKILL this process at the named point when SALVAGE_TEST_CRASH_AT names it. */
  readonly crashPoint: (point: string) => void;
}

/** What the impact step journals. */
export interface ImpactOutputs {
  readonly gtids: string[];
  readonly tables: {
    table: string;
    inserted: number;
    updated: number;
    deleted: number;
    columns: unknown[];
  }[];
  readonly rows: number;
  readonly later_writes: number;
  readonly later_write_sample: unknown[];
  readonly later_transactions: number;
  readonly schema_changes: unknown[];
  readonly orphans: { constraint: string; child: string; parent: string; orphans: number }[];
  readonly activity: Activity;
}

export interface VerifyOutputs {
  readonly equal: boolean;
  readonly compared: string[];
  readonly differing: string[];
  /** For each differing table: row counts on both sides and a few differing keys. */
  readonly differences: { table: string; status: string; rows: unknown; sample_keys: unknown[] }[];
  /** Tables that cannot equal the source: the bad change wrote them, or (pitr) lost writes did. */
  readonly not_compared: { table: string; why: string }[];
  readonly orphans: number;
  readonly check_errors: string[];
  readonly assertions: { statement: string; passed: boolean; rows: number }[];
  readonly verified_at: string;
}

/** A step's journaled outputs, typed by the caller that knows the step. */
export function outputsOf<T>(results: StepResults, step: string): T {
  const outputs = results.get(step);
  if (outputs === undefined) throw new SalvageError('INTERNAL', `Step ${step} has no result yet.`);
  return outputs as unknown as T;
}

export function strategyOf(results: StepResults): Strategy {
  return outputsOf<RecoveryPlan>(results, 'plan').chosen;
}

const restoring = (_: RecoverContext, results: StepResults) => strategyOf(results) !== 'undo';
const undoing = (_: RecoverContext, results: StepResults) => strategyOf(results) === 'undo';

function badGtids(context: RecoverContext, results: StepResults): string[] {
  if (context.request.gtids.length > 0) return context.request.gtids;
  return outputsOf<{ gtids: string[] }>(results, 'locate').gtids;
}

/** The restored sandbox's login: root without password, never the user's password sources. */
function restoredTarget(results: StepResults): ConnectTarget {
  const restore = outputsOf<{ dsn: string; dir: string }>(results, 'restore');
  return resolveTarget(parseDsn(restore.dsn), { env: {}, home: restore.dir, tls: { mode: 'disabled' } });
}

/** Whether the restore sandbox still runs (it is lost when its machine rebooted or someone destroyed it). */
async function sandboxRunning(outputs: JsonObject): Promise<boolean> {
  const sandboxes = await listSandboxes({ baseDir: String(outputs.base_dir) }).catch(() => []);
  return sandboxes.some((s) => s.name === outputs.name && s.running);
}

export const RECOVER_STEPS: readonly Step<RecoverContext>[] = [
  {
    name: 'freeze',
    inputs: (c) => ({ source: describeTarget(c.source) }),
    async run(c) {
      c.progress(`freezing writes on ${describeTarget(c.source)}`);
      const report = await freeze(c.source, { stateFile: join(c.dir, 'freeze-state.json') });
      for (const warning of report.warnings) c.progress(`warning: ${warning}`);
      return { ...toJsonObject(report), frozen_at: new Date().toISOString() };
    },
  },
  {
    name: 'locate',
    applies: (c) => c.request.gtids.length === 0,
    inputs: (c) => ({ migration: c.request.migration, grep: c.request.grep }),
    async run(c) {
      c.progress('locating the bad change in the binlog');
      const found = await locateBadChange(c.source, { migration: c.request.migration, grep: c.request.grep });
      c.progress(
        `the bad change is ${(found.gtids as string[]).join(', ')}: ${(found.why as string[]).join('; ')}`,
      );
      return found;
    },
  },
  {
    name: 'backup',
    inputs: (c, r) => ({ repo: c.request.repo, before: badGtids(c, r) }),
    async run(c, r) {
      const repo = await openRepository(c.request.repo);
      const chosen = chooseBackup((await listBackups(repo)).backups, badGtids(c, r));
      c.progress(
        chosen ? `backup ${chosen.id} precedes the bad change` : 'no backup precedes the bad change',
      );
      return { backup: chosen === undefined ? null : toJsonObject(chosen) };
    },
  },
  {
    name: 'impact',
    inputs: (c, r) => ({ gtids: badGtids(c, r) }),
    async run(c, r) {
      const gtids = badGtids(c, r);
      const backup = outputsOf<{ backup: ChosenBackup | null }>(r, 'backup').backup;
      const start = binlogStart(backup);
      c.progress(`measuring what ${gtids.join(', ')} changed and what came after`);
      const impact = await withConnection(c.source, (conn) =>
        measureImpact({ gtids, source: openChangeSource({ server: c.source, start }), conn }),
      );
      const activity = await measureActivity(
        readTransactions(readBinlog({ server: c.source, start })),
        gtids,
      );
      return toJsonObject({
        gtids,
        tables: impact.tables,
        rows: impact.tables.reduce((n, t) => n + t.inserted + t.updated + t.deleted, 0),
        later_writes: impact.laterWrites.length,
        later_write_sample: impact.laterWrites.slice(0, 20),
        later_transactions: impact.laterTransactions,
        schema_changes: impact.schemaChanges,
        orphans: impact.orphans,
        activity,
      });
    },
  },
  {
    name: 'plan',
    inputs: (c) => ({ strategy: c.request.strategy }),
    async run(c, r) {
      const impact = outputsOf<ImpactOutputs>(r, 'impact');
      const backup = outputsOf<{ backup: ChosenBackup | null }>(r, 'backup').backup;
      const firstBad = impact.activity.bad[0]?.ts;
      const after = impact.activity.after;
      const plan = planRecovery(
        {
          bad: {
            transactions: impact.gtids.length,
            rows: impact.rows,
            schema_changes: impact.schema_changes.length,
          },
          after: {
            transactions: after.transactions,
            rows: after.rows,
            seconds:
              after.last_ts === null || firstBad === undefined
                ? 0
                : Math.max(0, round(after.last_ts - firstBad)),
          },
          conflicts: impact.later_writes,
          backup: backup?.id ?? null,
        },
        c.request.strategy ?? undefined,
      );
      return toJsonObject(plan);
    },
  },
  {
    // The gate: without --yes the run stops before this step, with the plan shown.
    name: 'approve',
    inputs: (_, r) => ({ strategy: strategyOf(r) }),
    async run(_, r) {
      return { approved_at: new Date().toISOString(), strategy: strategyOf(r), by: '--yes' };
    },
  },
  {
    name: 'environment',
    applies: restoring,
    async run(c) {
      // Named after the incident, so an interrupted attempt's sandbox is found and replaced.
      const name = incidentSandboxName(c.dir);
      return { name, base_dir: sandboxBase(c) };
    },
  },
  {
    // Restore and replay are one call into the restore module; its progress marks the phases.
    name: 'restore',
    applies: restoring,
    restartFrom: 'restore',
    stillValid: (_, outputs) => sandboxRunning(outputs),
    inputs: (c, r) => ({ strategy: strategyOf(r), gtids: badGtids(c, r) }),
    async run(c, r) {
      const env = outputsOf<{ name: string; base_dir: string }>(r, 'environment');
      const strategy = strategyOf(r);
      const gtids = badGtids(c, r);
      // Replaying twice onto the same data would apply transactions twice: always from a fresh restore.
      await removeSandbox(env.name, env.base_dir);
      const first = outputsOf<ImpactOutputs>(r, 'impact').activity.bad[0]?.gtid ?? gtids[0]!;
      c.progress(
        strategy === 'pitr'
          ? `restoring into sandbox ${env.name} and replaying up to just before ${first}`
          : `restoring into sandbox ${env.name} and replaying everything except ${gtids.join(', ')}`,
      );
      const report = await restoreToPoint({
        repo: c.request.repo,
        into: { kind: 'sandbox', options: { name: env.name, baseDir: env.base_dir, lifetime: 'detached' } },
        source: c.source,
        cut: strategy === 'pitr' ? { kind: 'before', gtid: first } : { kind: 'end' },
        skip: strategy === 'pitr' ? undefined : gtids,
        onProgress: (progress) => {
          if (progress.kind === 'restored') {
            c.progress(`backup restored in ${progress.seconds} s; replaying the binlog`);
            c.crashPoint('restore');
          }
        },
      });
      c.crashPoint('replay');
      const sandbox = report.sandbox!;
      return toJsonObject({
        name: sandbox.name,
        base_dir: env.base_dir,
        dsn: sandbox.dsn,
        dir: sandbox.dir,
        port: sandbox.port,
        backup: report.backup.id,
        cut: report.cut,
        replayed: report.replayed,
        skipped: report.skipped,
        conflicts: report.conflicts,
        timings: report.timings,
      });
    },
  },
  {
    name: 'rehearse',
    applies: undoing,
    inputs: (c, r) => ({ gtids: badGtids(c, r) }),
    async run(c, r) {
      const gtids = badGtids(c, r);
      const plan = await planOnSource(c, r, gtids);
      c.progress(
        `testing the undo of ${plan.rows} rows on a clone of the source restored from ${c.request.repo}`,
      );
      const rehearsal = await rehearseUndo({
        source: c.source,
        plan,
        header: undoHeader(c, gtids),
        assertFile: c.request.assert_file ?? undefined,
        sandbox: { baseDir: sandboxBase(c) },
        repo: c.request.repo,
      });
      return toJsonObject({
        checksums: rehearsal.checksums,
        assertions: rehearsal.assertions,
        clone: rehearsal.clone,
        statements: plan.statements.length,
        rows: plan.rows,
        conflicts: plan.conflicts.length,
      });
    },
  },
  {
    name: 'undo',
    applies: undoing,
    inputs: (c, r) => ({ gtids: badGtids(c, r) }),
    async run(c, r, _inputs) {
      const gtids = badGtids(c, r);
      const rehearsal = outputsOf<{ checksums: Record<string, string> }>(r, 'rehearse');
      const tables = Object.keys(rehearsal.checksums);
      // An attempt killed after its COMMIT left the source already undone: then there is nothing to do.
      const now = await withConnection(c.source, (conn) => tableChecksums(conn, tables));
      if (tables.length > 0 && tables.every((t) => now[t] === rehearsal.checksums[t])) {
        return { statements: 0, rows: 0, conflicts: [], already_applied: true };
      }
      const plan = await planOnSource(c, r, gtids);
      c.progress(`applying the undo of ${plan.rows} rows to ${describeTarget(c.source)}`);
      const applied = await withConnection(c.source, (conn) =>
        applyUndo(conn, plan, { savePrefix: join(c.dir, 'undo'), header: undoHeader(c, gtids) }),
      );
      return toJsonObject({
        statements: applied.statements,
        rows: applied.rows,
        saved: applied.saved,
        conflicts: plan.conflicts,
        already_applied: false,
      });
    },
  },
  {
    name: 'verify',
    async run(c, r) {
      const outputs = strategyOf(r) === 'undo' ? await verifyUndo(c, r) : await verifyRestore(c, r);
      c.progress(
        outputs.equal
          ? 'verified'
          : `verification failed: ${outputs.differing.join(', ') || 'see the report'}`,
      );
      return toJsonObject(outputs);
    },
  },
  {
    name: 'cutover',
    async run(c, r) {
      const source = formatDsn({ ...c.source.dsn, user: c.source.user });
      if (strategyOf(r) === 'undo') {
        return {
          via: 'in place',
          steps: [
            `The data was repaired in place on ${source}; nothing moves.`,
            `Lift the freeze once the application checks pass: salvage thaw --source ${source}`,
          ],
          rollback: `Re-apply the saved rows: ${join(c.dir, 'undo.redo.sql')}`,
        };
      }
      const restored = outputsOf<{ dsn: string }>(r, 'restore').dsn;
      return {
        via: 'to be chosen',
        steps: [
          `Review the plan: salvage cutover --from ${source} --to ${restored} --via command|proxysql|haproxy|dns-file`,
          `Then run it with --execute --yes: traffic moves to ${restored}, it becomes writable, ${source} stays read-only for the rollback.`,
        ],
        rollback: `salvage cutover --from ${restored} --to ${source} --via <the same method> --execute --yes`,
      };
    },
  },
  {
    name: 'report',
    async run(c) {
      return writeIncidentReport(c.dir);
    },
  },
];

async function planOnSource(c: RecoverContext, r: StepResults, gtids: string[]) {
  const backup = outputsOf<{ backup: ChosenBackup | null }>(r, 'backup').backup;
  return withConnection(c.source, (conn) =>
    planUndo({
      gtids,
      binlog: { server: c.source, start: binlogStart(backup) },
      conn,
      onConflict: 'skip',
    }),
  );
}

function undoHeader(c: RecoverContext, gtids: string[]) {
  return {
    source: describeTarget(c.source),
    title: `salvage incident ${c.dir}: undo of ${gtids.join(', ')}`,
  };
}

async function verifyRestore(c: RecoverContext, r: StepResults): Promise<VerifyOutputs> {
  const impact = outputsOf<ImpactOutputs>(r, 'impact');
  const strategy = strategyOf(r);
  const target = restoredTarget(r);
  const notCompared = new Map<string, string>();
  for (const t of impact.tables) notCompared.set(t.table, 'the bad change wrote it');
  if (strategy === 'pitr') {
    for (const t of impact.activity.after.tables)
      if (!notCompared.has(t)) notCompared.set(t, 'writes after the cut point are not replayed');
  }
  const tables = await withConnection(target, async (conn) => {
    const [rows] = await conn.query(
      `SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) AS name FROM information_schema.TABLES
        WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN ('mysql','sys','information_schema','performance_schema')`,
    );
    return (rows as { name: string }[]).map((row) => row.name);
  });
  const compared = tables.filter((t) => !notCompared.has(t)).sort();
  c.progress(`comparing ${compared.length} tables the bad change did not touch with the source`);
  const report = await verifyServers({
    source: c.source,
    target,
    tables: { tables: compared.map(splitName), schemas: [] },
    assertFile: c.request.assert_file ?? undefined,
  });
  // Orphans over every foreign key of the restored server, not only the compared tables'.
  const orphans = await withConnection(target, async (conn) =>
    findOrphans(conn, await listForeignKeys(conn)),
  );
  const differences = report.tables
    .filter((t) => t.status !== 'equal')
    .map((t) => ({
      table: t.table,
      status: t.status,
      rows: t.rows,
      sample_keys: t.sample_keys.slice(0, 5) as unknown[],
    }));
  const differing = differences.map((t) => t.table);
  const orphanRows = orphans.reduce((n, o) => n + o.orphans, 0);
  const checkErrors = report.check.filter((t) => t.status === 'error').map((t) => t.table);
  const assertions = report.assertions.map((a) => ({
    statement: a.statement,
    passed: a.passed,
    rows: a.rows,
  }));
  return {
    equal:
      differing.length === 0 &&
      orphanRows === 0 &&
      checkErrors.length === 0 &&
      assertions.every((a) => a.passed),
    compared,
    differing,
    differences,
    not_compared: [...notCompared].map(([table, why]) => ({ table, why })),
    orphans: orphanRows,
    check_errors: checkErrors,
    assertions,
    verified_at: new Date().toISOString(),
  };
}

async function verifyUndo(c: RecoverContext, r: StepResults): Promise<VerifyOutputs> {
  const rehearsal = outputsOf<{ checksums: Record<string, string> }>(r, 'rehearse');
  const tables = Object.keys(rehearsal.checksums).sort();
  const assertions = c.request.assert_file === null ? [] : await readAssertions(c.request.assert_file);
  const { now, orphans } = await withConnection(c.source, async (conn) => ({
    now: await tableChecksums(conn, tables),
    orphans: await findOrphans(conn, await listForeignKeys(conn)),
  }));
  const results = assertions.length === 0 ? [] : await runAssertions(c.source, assertions);
  const differing = tables.filter((t) => now[t] !== rehearsal.checksums[t]);
  const orphanRows = orphans.reduce((n, o) => n + o.orphans, 0);
  const asserted = results.map((a) => ({ statement: a.statement, passed: a.passed, rows: a.rows }));
  return {
    equal: differing.length === 0 && orphanRows === 0 && asserted.every((a) => a.passed),
    compared: tables,
    differing,
    differences: differing.map((table) => ({ table, status: 'differs', rows: null, sample_keys: [] })),
    not_compared: [],
    orphans: orphanRows,
    check_errors: [],
    assertions: asserted,
    verified_at: new Date().toISOString(),
  };
}

function splitName(name: string): { schema: string; table: string } {
  const dot = name.indexOf('.');
  return { schema: name.slice(0, dot), table: name.slice(dot + 1) };
}

async function removeSandbox(name: string, baseDir: string): Promise<void> {
  const existing = await attachSandbox(name, { baseDir }).catch(() => undefined);
  await existing?.destroy();
}

function sandboxBase(c: RecoverContext): string {
  return c.request.sandbox_base ?? defaultBaseDir();
}

/** The restore sandbox of the incident in `dir`: one name per incident, so a retry finds the last attempt's. */
export function incidentSandboxName(dir: string): string {
  return `incident-${createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 10)}`;
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
