/**
 * `salvage detect`: is this server's data damaged, and where? CHECK TABLE and
 * foreign-key orphans on their own; with a baseline also row-count deltas,
 * checksum changes, schema changes and column anomalies (NULL-rate and
 * distinct-count shifts). Findings come ranked, worst first.
 */
import { type ConnectTarget, connect, describeTarget } from '../mysql/index.js';
import type { Baseline, BaselineTable } from './baseline.js';
import { type CheckMode, checkTables, findOrphans, listForeignKeys } from './integrity.js';
import { openSnapshotPool } from './pool.js';
import { diffColumns } from './schema.js';
import { measureTable } from './snapshot.js';
import { type ListedTable, listTables, type TableFilter, tableName } from './tables.js';
import { DEFAULT_CHUNK_ROWS } from './verify.js';

export type Severity = 'critical' | 'high' | 'medium' | 'low';

export type FindingKind =
  | 'check_table'
  | 'foreign_key_orphans'
  | 'table_dropped'
  | 'table_added'
  | 'schema_changed'
  | 'row_count'
  | 'checksum_changed'
  | 'null_rate'
  | 'distinct_count';

export interface Finding {
  readonly severity: Severity;
  readonly kind: FindingKind;
  readonly table: string;
  readonly column?: string;
  /** One sentence a DBA can act on. */
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** When a change against the baseline counts as a finding. */
export interface DetectThresholds {
  /** Row count changed by at least this percentage. */
  readonly rowDeltaPct: number;
  /** At least this percentage of a table's chunks changed checksum. */
  readonly changedChunksPct: number;
  /** A column's NULL rate moved by at least this many percentage points. */
  readonly nullShiftPoints: number;
  /** A column's distinct count changed by at least this percentage (and by at least 2). */
  readonly distinctShiftPct: number;
}

export const DEFAULT_THRESHOLDS: DetectThresholds = {
  rowDeltaPct: 10,
  changedChunksPct: 20,
  nullShiftPoints: 10,
  distinctShiftPct: 50,
};

export interface DetectOptions {
  readonly source: ConnectTarget;
  readonly baseline?: Baseline;
  /** CHECK TABLE ... EXTENDED instead of QUICK. */
  readonly extended?: boolean;
  readonly thresholds?: Partial<DetectThresholds>;
  readonly tables?: TableFilter;
  readonly parallel?: number;
  readonly onProgress?: (message: string) => void;
}

export interface DetectReport {
  readonly clean: boolean;
  readonly server: string;
  readonly baseline: { readonly taken_at: string; readonly server: string } | null;
  readonly tables_checked: number;
  readonly foreign_keys_checked: number;
  readonly findings: readonly Finding[];
}

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3 };

export async function detect(options: DetectOptions): Promise<DetectReport> {
  const thresholds = { ...DEFAULT_THRESHOLDS, ...options.thresholds };
  const mode: CheckMode = options.extended ? 'extended' : 'quick';
  const findings: Finding[] = [];
  const conn = await connect(options.source);
  let tables: ListedTable[];
  let foreignKeys: number;
  try {
    tables = await listTables(conn, options.tables);
    options.onProgress?.(`CHECK TABLE ${mode.toUpperCase()} on ${tables.length} tables`);
    for (const check of await checkTables(conn, tables, mode)) {
      if (check.status === 'ok') continue;
      findings.push({
        severity: check.status === 'error' ? 'critical' : 'medium',
        kind: 'check_table',
        table: check.table,
        message: `CHECK TABLE ${mode.toUpperCase()} reports ${check.status}: ${check.messages.join('; ')}`,
        details: { messages: check.messages },
      });
    }
    const names = new Set(tables.map(tableName));
    const keys = (await listForeignKeys(conn)).filter((fk) => names.has(tableName(fk.child)));
    foreignKeys = keys.length;
    for (const orphan of await findOrphans(conn, keys)) {
      if (orphan.orphans === 0) continue;
      findings.push({
        severity: 'high',
        kind: 'foreign_key_orphans',
        table: orphan.table,
        message: `${orphan.orphans} rows of ${orphan.table} (${orphan.columns.join(', ')}) reference no row of ${orphan.references} (foreign key ${orphan.constraint})`,
        details: { ...orphan },
      });
    }
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
  if (options.baseline) findings.push(...(await compareWithBaseline(options, tables, thresholds)));
  findings.sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]);
  return {
    clean: findings.length === 0,
    server: describeTarget(options.source),
    baseline: options.baseline
      ? { taken_at: options.baseline.taken_at, server: options.baseline.server }
      : null,
    tables_checked: tables.length,
    foreign_keys_checked: foreignKeys,
    findings,
  };
}

async function compareWithBaseline(
  options: DetectOptions,
  tables: readonly ListedTable[],
  thresholds: DetectThresholds,
): Promise<Finding[]> {
  const baseline = options.baseline!;
  const findings: Finding[] = [];
  const now = new Map(tables.map((t) => [tableName(t), t]));
  const before = new Map(baseline.tables.map((t) => [t.table, t]));
  for (const [name, entry] of before) {
    if (now.has(name)) continue;
    if (options.tables && !inFilter(options.tables, entry)) continue;
    findings.push({
      severity: 'critical',
      kind: 'table_dropped',
      table: name,
      message: `${name} had ${entry.rows} rows at the baseline and no longer exists`,
    });
  }
  for (const name of now.keys()) {
    if (!before.has(name)) {
      findings.push({
        severity: 'low',
        kind: 'table_added',
        table: name,
        message: `${name} is new since the baseline`,
      });
    }
  }
  const pool = await openSnapshotPool(options.source, options.parallel ?? 2);
  try {
    const compared = await Promise.all(
      tables
        .filter((t) => before.has(tableName(t)))
        .map(async (table) => {
          const like = before.get(tableName(table))!;
          const current = await measureTable(pool, table, { chunkRows: DEFAULT_CHUNK_ROWS, like });
          options.onProgress?.(`${tableName(table)} measured`);
          return current === undefined ? [] : tableFindings(like, current, thresholds);
        }),
    );
    findings.push(...compared.flat());
  } finally {
    await pool.close();
  }
  return findings;
}

function inFilter(filter: TableFilter, entry: BaselineTable): boolean {
  return (
    filter.schemas.includes(entry.schema) ||
    filter.tables.some((t) => t.schema === entry.schema && t.table === entry.name)
  );
}

/** What changed in one table between the baseline and now, beyond the thresholds. */
export function tableFindings(
  before: BaselineTable,
  now: BaselineTable,
  thresholds: DetectThresholds,
): Finding[] {
  const findings: Finding[] = [];
  const table = before.table;
  const schemaChanged = before.fingerprint !== now.fingerprint;
  if (schemaChanged) {
    for (const difference of diffColumns(before.columns, now.columns, before.indexes, now.indexes)) {
      const severity: Severity =
        difference.kind === 'column_missing' || difference.kind === 'column_changed'
          ? 'high'
          : difference.kind === 'column_added'
            ? 'medium'
            : 'low';
      const what =
        difference.kind === 'indexes_changed'
          ? `indexes changed from [${difference.before}] to [${difference.after}]`
          : difference.kind === 'column_changed'
            ? `column ${difference.column} changed from ${difference.before} to ${difference.after}`
            : `column ${difference.column} was ${difference.kind === 'column_missing' ? 'dropped' : 'added'}`;
      findings.push({
        severity,
        kind: 'schema_changed',
        table,
        column: difference.column,
        message: `${table}: ${what}`,
        details: { ...difference },
      });
    }
  }
  const delta = now.rows - before.rows;
  const deltaPct = before.rows === 0 ? (delta === 0 ? 0 : 100) : (Math.abs(delta) / before.rows) * 100;
  if (delta !== 0 && deltaPct >= thresholds.rowDeltaPct) {
    findings.push({
      severity: delta < 0 ? 'high' : 'medium',
      kind: 'row_count',
      table,
      message: `${table}: ${before.rows} → ${now.rows} rows (${delta > 0 ? '+' : ''}${delta}, ${deltaPct.toFixed(1)}%)`,
      details: { before: before.rows, now: now.rows, delta, percent: round(deltaPct) },
    });
  }
  if (!schemaChanged) findings.push(...checksumFindings(before, now, thresholds));
  findings.push(...profileFindings(before, now, thresholds));
  return findings;
}

function checksumFindings(
  before: BaselineTable,
  now: BaselineTable,
  thresholds: DetectThresholds,
): Finding[] {
  if (before.checksum === now.checksum && before.rows === now.rows) return [];
  const chunksBefore = before.chunking.chunks;
  const chunksNow = now.chunking.chunks;
  const total = chunksBefore?.length ?? 1;
  const changed =
    chunksBefore && chunksNow
      ? chunksBefore.filter((c, i) => c.checksum !== chunksNow[i]?.checksum || c.rows !== chunksNow[i]?.rows)
          .length
      : 1;
  const pct = (changed / total) * 100;
  if (pct < thresholds.changedChunksPct) return [];
  return [
    {
      severity: 'medium',
      kind: 'checksum_changed',
      table: before.table,
      message: `${before.table}: data changed in ${changed} of ${total} chunks (${pct.toFixed(0)}%) since the baseline`,
      details: { chunks: total, changed, percent: round(pct) },
    },
  ];
}

function profileFindings(before: BaselineTable, now: BaselineTable, thresholds: DetectThresholds): Finding[] {
  const findings: Finding[] = [];
  const current = new Map(now.profile.columns.map((c) => [c.name, c]));
  for (const column of before.profile.columns) {
    const after = current.get(column.name);
    if (after === undefined) continue;
    const shift = (after.null_rate - column.null_rate) * 100;
    if (Math.abs(shift) >= thresholds.nullShiftPoints) {
      findings.push({
        severity: shift > 0 ? 'high' : 'medium',
        kind: 'null_rate',
        table: before.table,
        column: column.name,
        message: `${before.table}.${column.name}: NULL in ${pct(column.null_rate)} of rows at the baseline, ${pct(after.null_rate)} now`,
        details: {
          before: column.null_rate,
          now: after.null_rate,
          nulls_before: column.nulls,
          nulls_now: after.nulls,
        },
      });
    }
    const change = after.distinct - column.distinct;
    const changePct = (Math.abs(change) / Math.max(column.distinct, 1)) * 100;
    if (Math.abs(change) >= 2 && changePct >= thresholds.distinctShiftPct) {
      findings.push({
        severity: 'medium',
        kind: 'distinct_count',
        table: before.table,
        column: column.name,
        message: `${before.table}.${column.name}: ${column.distinct} distinct values at the baseline, ${after.distinct} now${now.profile.sample_modulus > 1 ? ' (in a sample of the rows)' : ''}`,
        details: { before: column.distinct, now: after.distinct, sampled: now.profile.sample_modulus > 1 },
      });
    }
  }
  return findings;
}

function pct(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
