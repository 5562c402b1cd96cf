/**
 * Point-in-time restore: the newest backup before the cut point, restored
 * into a clean environment, then the binlog replayed from the backup's
 * consistent point up to the cut (or to the end, leaving out the transactions
 * given with --skip). The whole binlog chain is read and proven whole before
 * anything is restored.
 */
import {
  type BackupManifest,
  binlogArchivePrefix,
  listBackups,
  openRepository,
  type Repository,
  type RestoreTarget,
  readArchiveIndex,
  restoreBackup,
} from '../backup/index.js';
import { compareBinlogFiles, TransactionAssembler } from '../binlog/index.js';
import type { Sandbox } from '../environment/index.js';
import { SalvageError } from '../errors.js';
import {
  type ConnectTarget,
  describeTarget,
  queryRows,
  readServerIdentity,
  type ServerIdentity,
  sameServer,
  withConnection,
} from '../mysql/index.js';
import {
  before,
  type ChainSources,
  type ChainUsage,
  type Coordinates,
  eventBatchesBefore,
  eventsBefore,
  readChain,
  readChainBatches,
} from './chain.js';
import { type Conflict, findConflicts } from './conflicts.js';
import { type CutPoint, cutAt, describeCut, type ResolvedCut } from './cut-point.js';
import { type ReplayResult, replayBinlog } from './replay.js';
import { relayReplayRefusal, replayWithServerApplier } from './replay-relay.js';

export interface RestoreOptions {
  readonly repo: string;
  readonly into: RestoreInto;
  /** The server the backups and binlogs are of: read for what the archive lacks; never written. */
  readonly source?: ConnectTarget;
  readonly cut: CutPoint;
  /** Transactions to leave out (with cut `end`). */
  readonly skip?: readonly string[];
  /** Only these tables (`db.table`) are replayed. */
  readonly tables?: readonly string[];
  /**
   * Who applies the binlog: `server`, the restored server's own replication
   * applier fed relay logs (a MariaDB sandbox only, all tables); `session`,
   * BINLOG statements over one client session (any target). `auto` (default):
   * the server's applier where it can, else a session.
   */
  readonly applier?: Applier | 'auto';
  readonly onProgress?: (progress: RestoreProgress) => void;
  readonly signal?: AbortSignal;
}

export type Applier = 'server' | 'session';

/** A new sandbox, or a named server that is not the source (the backup module's restore target). */
export type RestoreInto = RestoreTarget;

export type RestoreProgress =
  | {
      readonly kind: 'planned';
      readonly backup: string;
      readonly cut: ResolvedCut;
      readonly transactions: number;
    }
  | { readonly kind: 'restored'; readonly seconds: number }
  | { readonly kind: 'replaying'; readonly replayed: number; readonly total: number };

export interface RestoreReport {
  /** The restored server. */
  readonly dsn: string;
  readonly target: ConnectTarget;
  /** The sandbox restored into, when `into` was a sandbox; its owner destroys it. */
  readonly sandbox: Sandbox | undefined;
  readonly backup: {
    readonly id: string;
    readonly method: string;
    readonly consistentPoint: BackupManifest['consistentPoint'];
  };
  readonly cut: {
    readonly description: string;
    readonly file: string | undefined;
    readonly position: number | undefined;
    readonly gtid: string | undefined;
  };
  readonly replayed: number;
  /** Who applied the binlog (see RestoreOptions.applier). */
  readonly applier: Applier;
  readonly skipped: readonly string[];
  readonly conflicts: readonly Conflict[];
  /** Transactions left out because they touched none of --tables. */
  readonly filtered: number;
  readonly tables: readonly string[] | undefined;
  readonly gtidsPreserved: boolean;
  readonly binlogSources: { readonly archivedFiles: number; readonly fromSource: boolean };
  readonly timings: {
    readonly plan: number;
    readonly restore: number;
    readonly replay: number;
    readonly conflicts: number;
    readonly total: number;
  };
}

interface Plan {
  readonly backup: BackupManifest;
  /** Undefined: replay to the end of the chain. */
  readonly cut: ResolvedCut | undefined;
  /** Transactions between the backup and the cut. */
  readonly transactions: number;
  /** Where the first skipped transaction starts. */
  readonly firstSkip: Coordinates | undefined;
}

/** Restores to a point in time; see the module comment. */
export async function restoreToPoint(options: RestoreOptions): Promise<RestoreReport> {
  const started = performance.now();
  const seconds = (since: number): number => Math.round(performance.now() - since) / 1000;
  const refusal = options.applier === 'server' ? plannedApplierRefusal(options) : undefined;
  if (refusal !== undefined) throw applierRefused(refusal);
  const repo = await openRepository(options.repo);
  const sourceIdentity = options.source
    ? await withConnection(options.source, readServerIdentity)
    : undefined;
  if (options.into.kind === 'server') await refuseSource(options.into.target, sourceIdentity);

  // A physical backup restores only into a new sandbox.
  const backups = (await usableBackups(repo, sourceIdentity)).filter(
    (b) => options.into.kind === 'sandbox' || b.method !== 'physical',
  );
  if (backups.length === 0) {
    throw new SalvageError(
      'BACKUP_NOT_FOUND',
      `${repo.url} holds only physical backups, which restore into a sandbox, not into a running server.`,
      {
        hint: 'Use --into sandbox, or take a logical backup.',
      },
    );
  }
  const oldest = backups[0] as BackupManifest;
  const sources = await chainSources(repo, oldest, options.source);
  const usage: ChainUsage = { archivedFiles: 0, fromSource: false };
  const plan = await planRestore(sources, backups, options, usage);
  options.onProgress?.({
    kind: 'planned',
    backup: plan.backup.id,
    cut: plan.cut ?? endCut(options.cut),
    transactions: plan.transactions,
  });
  const planned = seconds(started);

  const restoreStarted = performance.now();
  const into: RestoreTarget =
    options.into.kind === 'server'
      ? options.into
      : // Until the replay is done the sandbox is half a restore: it goes if this process dies.
        { ...options.into, options: { ...options.into.options, provisional: true } };
  const restored = await restoreBackup(repo, plan.backup.id, into, {
    tables: options.tables,
    // The server applier copies the archived range into the sandbox as relay logs.
    reserveBytes: options.into.kind === 'sandbox' ? archivedBytesAfter(sources, plan.backup) : 0,
  });
  const restoreSeconds = seconds(restoreStarted);
  options.onProgress?.({ kind: 'restored', seconds: restoreSeconds });
  try {
    const replayStarted = performance.now();
    const point = plan.backup.consistentPoint.binlog as Coordinates;
    const chain = await chainSources(repo, plan.backup, options.source);
    const preserveGtids = await canPreserveGtids(restored.target, plan.backup);
    const batches = () => eventBatchesBefore(readChainBatches(chain, point), plan.cut);
    const skip = new Set(options.skip ?? []);
    const progress = (replayed: number): void =>
      options.onProgress?.({ kind: 'replaying', replayed, total: plan.transactions });
    let applier = await chooseApplier(options, restored.target, preserveGtids);
    let replay: ReplayResult | undefined;
    if (applier === 'server') {
      replay = await replayWithServerApplier({
        target: restored.target,
        events: batches(),
        skip,
        tables: options.tables ? new Set(options.tables) : undefined,
        relaxDurability: true,
        signal: options.signal,
        onProgress: progress,
      });
    }
    if (replay === undefined) {
      applier = 'session';
      let seen = 0;
      replay = await replayBinlog({
        target: restored.target,
        events: eventsBefore(readChain(chain, point), plan.cut),
        skip,
        tables: options.tables ? new Set(options.tables) : undefined,
        preserveGtids,
        // A new sandbox serves nothing else yet: its commits need not each reach the disk.
        relaxDurability: restored.sandbox !== undefined,
        signal: options.signal,
        onTransaction: () => {
          seen++;
          if (seen % 1000 === 0) progress(seen);
        },
      });
    }
    const replaySeconds = seconds(replayStarted);
    const conflictsStarted = performance.now();
    const conflicts =
      plan.firstSkip && (options.skip?.length ?? 0) > 0
        ? await findConflicts({
            events: readChain(chain, plan.firstSkip),
            skip: options.skip ?? [],
            target: restored.target,
          })
        : [];
    const cut = plan.cut;
    await restored.sandbox?.markReady();
    return {
      dsn: describeTarget(restored.target),
      target: restored.target,
      sandbox: restored.sandbox,
      backup: {
        id: plan.backup.id,
        method: plan.backup.method,
        consistentPoint: plan.backup.consistentPoint,
      },
      cut: {
        description: describeCut(options.cut),
        file: cut?.file ?? replay.last?.file,
        position: cut?.position ?? replay.last?.position,
        gtid: cut?.transaction?.gtid,
      },
      replayed: replay.replayed,
      applier,
      skipped: replay.skipped,
      conflicts,
      filtered: replay.filtered,
      tables: options.tables,
      gtidsPreserved: preserveGtids,
      binlogSources: { archivedFiles: usage.archivedFiles, fromSource: usage.fromSource },
      timings: {
        plan: planned,
        restore: restoreSeconds,
        replay: replaySeconds,
        conflicts: seconds(conflictsStarted),
        total: seconds(started),
      },
    };
  } catch (error) {
    // A failed restore leaves no half-restored sandbox behind.
    await restored.sandbox?.destroy().catch(() => undefined);
    throw error;
  }
}

/** Bytes of archived binlog from the backup's consistent point on (what is not archived is not known yet). */
function archivedBytesAfter(sources: ChainSources, backup: BackupManifest): number {
  const point = backup.consistentPoint.binlog;
  if (point === null) return 0;
  let bytes = 0;
  for (const file of sources.index?.files ?? []) {
    const order = compareBinlogFiles(file.file, point.file);
    if (order > 0) bytes += file.size;
    if (order === 0) bytes += Math.max(0, file.size - point.position);
  }
  return bytes;
}

/** The applier asked for, or the fastest one that can replay into the target. */
async function chooseApplier(
  options: RestoreOptions,
  target: ConnectTarget,
  preserveGtids: boolean,
): Promise<Applier> {
  const wanted = options.applier ?? 'auto';
  if (wanted === 'session') return 'session';
  const why =
    plannedApplierRefusal(options) ??
    (!preserveGtids
      ? 'the target has logged newer transactions in the same GTID domains'
      : await relayReplayRefusal(target));
  if (why === undefined) return 'server';
  if (wanted === 'server') throw applierRefused(why);
  return 'session';
}

/** Why the server's applier cannot do this restore, known before anything is restored. */
function plannedApplierRefusal(options: RestoreOptions): string | undefined {
  if (options.into.kind !== 'sandbox') return 'it applies only in a sandbox salvage restores into';
  return undefined;
}

function applierRefused(why: string): SalvageError {
  return new SalvageError(
    'BAD_INPUT',
    `the server's replication applier cannot replay this restore: ${why}`,
    {
      hint: 'Use --applier session (or auto).',
    },
  );
}

async function refuseSource(target: ConnectTarget, source: ServerIdentity | undefined): Promise<void> {
  if (source === undefined) return;
  const identity = await withConnection(target, readServerIdentity);
  if (sameServer(identity, source)) {
    throw new SalvageError(
      'REFUSED_SOURCE',
      `${describeTarget(target)} is the source server: a restore never writes into it.`,
      {
        context: { server: describeTarget(target) },
      },
    );
  }
}

/** Complete backups with binlog coordinates (of the source's server when it is given), oldest first. */
async function usableBackups(
  repo: Repository,
  source: ServerIdentity | undefined,
): Promise<BackupManifest[]> {
  const { backups } = await listBackups(repo);
  const usable = backups.filter(
    (b) =>
      b.consistentPoint.binlog !== null &&
      (source === undefined || sameServer({ ...b.server, serverUuid: b.server.serverUuid }, source)),
  );
  if (usable.length === 0) {
    throw new SalvageError(
      'BACKUP_NOT_FOUND',
      `${repo.url} holds no complete backup with binlog coordinates${source ? ' of that source' : ''}.`,
      {
        hint: 'Take one with `salvage backup create` on a server with binary logging on.',
        context: { repo: repo.url },
      },
    );
  }
  return usable;
}

async function chainSources(
  repo: Repository,
  backup: BackupManifest,
  source: ConnectTarget | undefined,
): Promise<ChainSources> {
  const prefix = binlogArchivePrefix({ ...backup.server, serverUuid: backup.server.serverUuid });
  return { repo, prefix, index: await readArchiveIndex(repo, prefix), source };
}

/**
 * One pass over the chain from the oldest backup: finds the cut, checks the
 * GTID sequence has no hole and that every --skip transaction exists, then
 * picks the newest backup before both the cut and the first skipped transaction.
 */
async function planRestore(
  sources: ChainSources,
  backups: readonly BackupManifest[],
  options: RestoreOptions,
  usage: ChainUsage,
): Promise<Plan> {
  const oldest = backups[0] as BackupManifest;
  const start = oldest.consistentPoint.binlog as Coordinates;
  const skip = new Set(options.skip ?? []);
  const found = new Map<string, Coordinates>();
  const gtids = new GtidSequence(oldest.consistentPoint.gtid);
  const assembler = new TransactionAssembler(false);
  let cut: ResolvedCut | undefined;
  const counted: Coordinates[] = [];
  let last: { file: string; ts: number; end: number } | undefined;
  chain: for await (const batch of readChainBatches(sources, start, usage)) {
    for (const { event } of batch) {
      const tx = assembler.push(event, 0);
      if (tx === undefined || !tx.complete) continue;
      gtids.check(tx.gtid, tx.file, tx.start);
      cut = cutAt(options.cut, tx);
      if (cut) break chain;
      if (tx.gtid !== undefined && skip.has(tx.gtid))
        found.set(tx.gtid, { file: tx.file, position: tx.start });
      counted.push({ file: tx.file, position: tx.start });
      last = { file: tx.file, ts: tx.ts, end: tx.end };
    }
  }
  if (cut === undefined) checkEndIsCut(options, sources, last);
  const missing = [...skip].filter((g) => !found.has(g));
  if (missing.length > 0) {
    throw new SalvageError(
      'GTID_NOT_FOUND',
      `transaction ${missing.join(', ')} is not in the binlogs from ${start.file}:${start.position} on`,
      {
        context: { gtid: missing[0] },
      },
    );
  }
  const firstSkip = [...found.values()].sort((a, b) => (before(a, b) ? -1 : 1))[0];
  const limit = firstSkip && (!cut || before(firstSkip, cut)) ? firstSkip : cut;
  const eligible = backups.filter(
    (b) => limit === undefined || !before(limit, b.consistentPoint.binlog as Coordinates),
  );
  const backup = eligible.at(-1);
  if (backup === undefined) {
    const p = start;
    throw new SalvageError(
      'BACKUP_NOT_FOUND',
      `no backup was taken before the cut point: the oldest, ${oldest.id}, starts at ${p.file}:${p.position} (${oldest.consistentPoint.gtid ?? 'no GTID'}), after ${limit?.file}:${limit?.position}.`,
      {
        hint: 'The cut point is older than every backup; nothing can restore to it.',
        context: { backup: oldest.id },
      },
    );
  }
  const from = backup.consistentPoint.binlog as Coordinates;
  const transactions = counted.filter((c) => !before(c, from)).length;
  return { backup, cut, transactions, firstSkip };
}

/** Reaching the end of the chain is the cut only for --skip, or for a time the source's live binlog passed. */
function checkEndIsCut(
  options: RestoreOptions,
  sources: ChainSources,
  last: { file: string; ts: number; end: number } | undefined,
): void {
  const point = options.cut;
  if (point.kind === 'before' || point.kind === 'after') {
    throw new SalvageError(
      'GTID_NOT_FOUND',
      `transaction ${point.gtid} is not in the binlogs after the oldest backup`,
      {
        context: { gtid: point.gtid },
      },
    );
  }
  if (point.kind === 'position') {
    if (last && last.file === point.file && last.end === point.position) return;
    throw new SalvageError(
      'BAD_INPUT',
      `${point.file}:${point.position} is not a transaction boundary in the binlogs after the oldest backup`,
      {
        context: { file: point.file, position: point.position },
      },
    );
  }
  if (point.kind === 'time' && sources.source === undefined) {
    throw new SalvageError(
      'BINLOG_GAP',
      `the archived binlogs end${last ? ` at a transaction of ${new Date(last.ts * 1000).toISOString()}` : ''}, before ${point.text}: what happened after is unknown`,
      {
        hint: 'Give --source to read the rest from the server, or cut at an earlier time.',
      },
    );
  }
}

function endCut(point: CutPoint): ResolvedCut {
  return { point, file: '', position: 0, transaction: undefined };
}

/**
 * MariaDB GTIDs of one domain follow each other (seq n+1 after n): a jump
 * means transactions are missing from the chain.
 */
class GtidSequence {
  private readonly last = new Map<string, bigint>();

  constructor(start: string | null) {
    for (const [domain, seq] of seqByDomain(start ?? '')) this.last.set(domain, seq);
  }

  check(gtid: string | undefined, file: string, position: number): void {
    const m = gtid === undefined ? null : /^(\d+)-(\d+)-(\d+)$/.exec(gtid);
    if (!m) return;
    const domain = m[1] as string;
    const seq = BigInt(m[3] as string);
    const previous = this.last.get(domain);
    if (previous !== undefined && seq !== previous + 1n) {
      if (seq <= previous) return; // an older GTID replayed on this domain: not a hole
      throw new SalvageError(
        'BINLOG_GAP',
        `transactions ${domain}-*-${previous + 1n}..${seq - 1n} are missing before ${gtid} at ${file}:${position}`,
        {
          context: { file, position, gtid },
        },
      );
    }
    this.last.set(domain, seq);
  }
}

/**
 * The target can log the replayed transactions under their own GTIDs when it
 * has logged nothing newer in their domains (strict mode would refuse them).
 */
async function canPreserveGtids(target: ConnectTarget, backup: BackupManifest): Promise<boolean> {
  if (backup.server.flavor !== 'mariadb') return false;
  const [row] = await withConnection(target, (conn) =>
    queryRows(conn, 'SELECT @@global.gtid_binlog_pos AS pos, @@global.log_bin AS logBin'),
  );
  const current = String(row?.pos ?? '');
  const backupSeq = seqByDomain(backup.consistentPoint.gtid ?? '');
  for (const [domain, seq] of seqByDomain(current)) {
    if (seq > (backupSeq.get(domain) ?? 0n)) return false;
  }
  return true;
}

/** A MariaDB GTID position (`domain-server-seq,...`) as the last sequence number per domain. */
function seqByDomain(position: string): Map<string, bigint> {
  const seqs = new Map<string, bigint>();
  for (const gtid of position.split(',')) {
    const m = /^(\d+)-\d+-(\d+)$/.exec(gtid.trim());
    if (m) seqs.set(m[1] as string, BigInt(m[2] as string));
  }
  return seqs;
}
