/**
 * `salvage verify`: the proof at the end of a recovery. Two servers are
 * compared table by table (schema, row counts, chunk checksums, sample keys
 * of differing rows); the target is checked on its own (CHECK TABLE,
 * foreign-key orphans, the user's assertions and smoke command).
 */
import { SalvageError } from '../errors.js';
import {
  type ConnectTarget,
  connect,
  describeTarget,
  formatDsn,
  parseVersion,
  readServerIdentity,
  type ServerIdentity,
  sameServer,
} from '../mysql/index.js';
import { type AssertionResult, readAssertions, runAssertions } from './assertions.js';
import { compareTable, type TableComparison } from './compare.js';
import { checkTables, findOrphans, listForeignKeys, type OrphanCheck, type TableCheck } from './integrity.js';
import { openSnapshotPool, type SnapshotPool } from './pool.js';
import { readTableSchema } from './schema.js';
import { runSmoke, type SmokeResult } from './smoke.js';
import {
  type ListedTable,
  listTables,
  type TableFilter,
  type TableRef,
  tableName,
  unknownTables,
} from './tables.js';

export interface VerifyOptions {
  readonly source: ConnectTarget;
  readonly target: ConnectTarget;
  /** Only these tables (default: every table outside the system schemas). */
  readonly tables?: TableFilter;
  /** A file of queries that must each return no rows on the target. */
  readonly assertFile?: string;
  /** A shell command run with SALVAGE_TARGET_DSN / SALVAGE_SOURCE_DSN set. */
  readonly smoke?: { readonly command: string; readonly timeoutMs?: number };
  /** Password files to hand to the smoke command (paths, never passwords). */
  readonly passwordFiles?: { readonly source?: string; readonly target?: string };
  /** Connections per server reading chunks in parallel. Default 2. */
  readonly parallel?: number;
  /** Rows per chunk to aim at. Default 50,000. */
  readonly chunkRows?: number;
  /** Differing keys to show per table. Default 10. */
  readonly sampleKeys?: number;
  /**
   * Compare equal-looking tables first with CHECKSUM TABLE when both servers
   * are of the same flavor and version (default true); false always compares
   * chunk by chunk.
   */
  readonly checksumTable?: boolean;
  /** CHECK TABLE on the target. Default true. */
  readonly checkTables?: boolean;
  /** Progress lines (to stderr in the CLI). */
  readonly onProgress?: (message: string) => void;
}

export interface VerifyReport {
  readonly equal: boolean;
  readonly source: string;
  readonly target: string;
  readonly tables: readonly TableComparison[];
  readonly check: readonly TableCheck[];
  readonly orphans: readonly OrphanCheck[];
  readonly assertions: readonly AssertionResult[];
  readonly smoke: SmokeResult | null;
  readonly duration_ms: number;
}

export const DEFAULT_CHUNK_ROWS = 50_000;
const DEFAULT_PARALLEL = 2;
const DEFAULT_SAMPLE_KEYS = 10;
const DEFAULT_SMOKE_TIMEOUT_MS = 300_000;

export async function verifyServers(options: VerifyOptions): Promise<VerifyReport> {
  const began = performance.now();
  const progress = options.onProgress ?? (() => {});
  // Read first, so a missing file fails before any server work.
  const assertions = options.assertFile === undefined ? undefined : await readAssertions(options.assertFile);
  const identities = await readIdentities(options.source, options.target);
  const sameVersion =
    (options.checksumTable ?? true) &&
    identities.source.flavor === identities.target.flavor &&
    sameRelease(identities.source.version, identities.target.version);
  const parallel = Math.max(1, options.parallel ?? DEFAULT_PARALLEL);
  const source = await openSnapshotPool(options.source, parallel);
  let target: SnapshotPool | undefined;
  let tables: TableComparison[];
  let present: TableRef[];
  try {
    target = await openSnapshotPool(options.target, parallel);
    const [sourceTables, targetTables] = await Promise.all([
      source.run((conn) => listTables(conn, options.tables)),
      target.run((conn) => listTables(conn, options.tables)),
    ]);
    if (options.tables) {
      const unknown = unknownTables(options.tables, sourceTables, targetTables);
      if (unknown.length > 0) {
        throw new SalvageError('BAD_INPUT', `Neither server has ${unknown.map(tableName).join(', ')}.`, {
          hint: 'Check the names given to --tables (db.table, or db.* for a whole schema).',
        });
      }
    }
    const all = mergeTables(sourceTables, targetTables);
    progress(`comparing ${all.length} tables with ${parallel} connections per server`);
    const pools = { source, target };
    tables = await Promise.all(
      all.map(async ({ ref, estimatedRows, onSource, onTarget }) => {
        const [sourceSchema, targetSchema] = await Promise.all([
          onSource ? pools.source.run((conn) => readTableSchema(conn, ref)) : undefined,
          onTarget ? pools.target.run((conn) => readTableSchema(conn, ref)) : undefined,
        ]);
        const result = await compareTable(
          pools.source,
          pools.target,
          ref,
          { source: sourceSchema, target: targetSchema },
          estimatedRows,
          {
            chunkRows: options.chunkRows ?? DEFAULT_CHUNK_ROWS,
            sampleKeys: options.sampleKeys ?? DEFAULT_SAMPLE_KEYS,
            sameVersion,
          },
        );
        progress(`${result.table}: ${result.status}`);
        return result;
      }),
    );
    present = targetTables;
  } finally {
    await Promise.all([source.close(), target?.close()]);
  }
  const { check, orphans } = await checkTarget(options.target, present, options.checkTables ?? true);
  const assertionResults = assertions === undefined ? [] : await runAssertions(options.target, assertions);
  const smoke =
    options.smoke === undefined
      ? null
      : await runSmoke({
          command: options.smoke.command,
          timeoutMs: options.smoke.timeoutMs ?? DEFAULT_SMOKE_TIMEOUT_MS,
          targetDsn: formatDsn({ ...options.target.dsn, user: options.target.user }),
          sourceDsn: formatDsn({ ...options.source.dsn, user: options.source.user }),
          targetPasswordFile: options.passwordFiles?.target,
          sourcePasswordFile: options.passwordFiles?.source,
        });
  const equal =
    tables.every((t) => t.status === 'equal') &&
    check.every((c) => c.status === 'ok') &&
    orphans.every((o) => o.orphans === 0) &&
    assertionResults.every((a) => a.passed) &&
    (smoke === null || smoke.passed);
  return {
    equal,
    source: describeTarget(options.source),
    target: describeTarget(options.target),
    tables,
    check,
    orphans,
    assertions: assertionResults,
    smoke,
    duration_ms: Math.round(performance.now() - began),
  };
}

/** Both identities; comparing a server with itself would "prove" anything, so that is refused. */
async function readIdentities(
  source: ConnectTarget,
  target: ConnectTarget,
): Promise<{ source: ServerIdentity; target: ServerIdentity }> {
  const identity = async (t: ConnectTarget) => {
    const conn = await connect(t);
    try {
      return await readServerIdentity(conn);
    } finally {
      await conn.end().catch(() => conn.destroy());
    }
  };
  const [a, b] = await Promise.all([identity(source), identity(target)]);
  if (sameServer(a, b)) {
    throw new SalvageError(
      'BAD_INPUT',
      `--source and --target are the same server (${describeTarget(source)}, ${describeTarget(target)}).`,
      { hint: 'Compare the original with the restored server: name two different servers.' },
    );
  }
  return { source: a, target: b };
}

function sameRelease(a: string, b: string): boolean {
  const x = parseVersion(a);
  const y = parseVersion(b);
  return x.major === y.major && x.minor === y.minor && x.patch === y.patch;
}

async function checkTarget(
  target: ConnectTarget,
  tables: readonly TableRef[],
  runCheckTable: boolean,
): Promise<{ check: TableCheck[]; orphans: OrphanCheck[] }> {
  const conn = await connect(target);
  try {
    const check = runCheckTable ? await checkTables(conn, tables, 'medium') : [];
    const names = new Set(tables.map(tableName));
    const keys = (await listForeignKeys(conn)).filter((fk) => names.has(tableName(fk.child)));
    return { check, orphans: await findOrphans(conn, keys) };
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

interface TablePair {
  readonly ref: TableRef;
  readonly estimatedRows: number;
  readonly onSource: boolean;
  readonly onTarget: boolean;
}

function mergeTables(source: readonly ListedTable[], target: readonly ListedTable[]): TablePair[] {
  const pairs = new Map<string, TablePair>();
  for (const t of source) {
    pairs.set(tableName(t), { ref: t, estimatedRows: t.estimatedRows, onSource: true, onTarget: false });
  }
  for (const t of target) {
    const pair = pairs.get(tableName(t));
    pairs.set(
      tableName(t),
      pair
        ? { ...pair, onTarget: true }
        : { ref: t, estimatedRows: t.estimatedRows, onSource: false, onTarget: true },
    );
  }
  return [...pairs.values()].sort((a, b) => tableName(a.ref).localeCompare(tableName(b.ref)));
}
