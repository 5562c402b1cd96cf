/**
 * The replay engine: applies binlog transactions to a server in one session,
 * in order, exactly. Row events go back as the server's own `BINLOG '<base64>'`
 * statements (the form mariadb-binlog prints), which the server applies with
 * its replication code for every column type; statement events go back as
 * their text after the session context they ran in. One session for the
 * whole replay: temporary tables and session variables survive file rotations.
 *
 * Speed comes from sending each transaction's rows events as one BINLOG
 * statement (mariadb-binlog sends one per statement, after several SETs),
 * from repeating session settings only when they change, and from sending
 * several statements per query and several queries in flight (replay-batch.ts):
 * the same statements in the same order on the same session, so the result is
 * the same as one by one.
 */

import type { EventWithBytes } from '../backup/index.js';
import {
  type BinlogEvent,
  crc32,
  type TableMapEvent,
  type Transaction,
  TransactionAssembler,
} from '../binlog/index.js';
import { SalvageError } from '../errors.js';
import { type Connection, type ConnectTarget, connect, queryRows } from '../mysql/index.js';
import { StatementBatch } from './replay-batch.js';
import { readCollations, SessionContext, statementContext } from './replay-session.js';

export interface ReplayOptions {
  readonly target: ConnectTarget;
  /** The events to apply, from a transaction boundary; the caller bounds them at the cut point. */
  readonly events: AsyncIterable<EventWithBytes>;
  /** GTIDs of transactions not to apply. */
  readonly skip?: ReadonlySet<string>;
  /** Only rows and statements of these tables (`db.table`); all when undefined. */
  readonly tables?: ReadonlySet<string>;
  /** Give every applied transaction its original GTID on the target (MariaDB). Default true. */
  readonly preserveGtids?: boolean;
  /** Called in binlog order once a transaction is applied (or left out). */
  readonly onTransaction?: (tx: Transaction, applied: boolean) => void;
  readonly signal?: AbortSignal;
  /**
   * About how many bytes of SQL go to the server per round trip (default 4 MiB,
   * capped by the target's max_allowed_packet). 0 sends every statement on its
   * own: the reference path the batched one is tested against.
   */
  readonly batchBytes?: number;
  /**
   * The target is a server made for this restore (a new sandbox): InnoDB need
   * not flush its redo log at every replayed commit (innodb_flush_log_at_trx_commit=0
   * while replaying, the setting and a flush restored at the end). Rows and GTIDs
   * are the same; only a crash in the middle of the replay, which fails the restore
   * anyway, could lose commits. Never for a server that serves anything else.
   */
  readonly relaxDurability?: boolean;
}

export const DEFAULT_BATCH_BYTES = 4 * 2 ** 20;

export interface ReplayResult {
  /** Transactions applied. */
  readonly replayed: number;
  /** GTIDs of the transactions left out on purpose (--skip), in binlog order. */
  readonly skipped: readonly string[];
  /** Transactions with nothing for the chosen tables. */
  readonly filtered: number;
  /** Where the last applied transaction ended. */
  readonly last:
    | { readonly file: string; readonly position: number; readonly gtid: string | undefined }
    | undefined;
  readonly seconds: number;
}

/** One step of a transaction: SQL text, or row events for one BINLOG statement. */
type Step = { readonly sql: string } | { readonly rows: Buffer[] };

interface Group {
  steps: Step[];
  /** Row or statement steps that touch the chosen tables. */
  relevant: boolean;
  /** Kept row events of the statement in progress (to mark its end when the closing event is filtered out). */
  statementRows: Buffer[];
}

// rows events: flags (u16) follow the 6-byte table id in the post-header (Rows_log_event).
const ROWS_FLAGS_OFFSET = 19 + 6;
const STMT_END = 0x0001;

/** Applies `events` to `target`; see the module comment. */
export async function replayBinlog(options: ReplayOptions): Promise<ReplayResult> {
  const started = performance.now();
  const skip = options.skip ?? new Set<string>();
  const tables = options.tables;
  const preserve = options.preserveGtids ?? true;
  const assembler = new TransactionAssembler(false);
  const batched = (options.batchBytes ?? DEFAULT_BATCH_BYTES) > 0;
  const conn = await connect(options.target, { multipleStatements: batched });
  let replayed = 0;
  let filtered = 0;
  const skipped: string[] = [];
  let last: ReplayResult['last'];
  let checksums = false;
  let group: Group = newGroup();
  const tableNames = new Map<number, string>();
  let batch: StatementBatch<Outcome> | undefined;
  try {
    const restoreDurability = options.relaxDurability ? await relaxDurability(conn) : undefined;
    const collations = await readCollations(conn);
    const session = new SessionContext(collations);
    const limit = batched ? await batchLimit(conn, options.batchBytes ?? DEFAULT_BATCH_BYTES) : 0;
    batch = new StatementBatch<Outcome>(conn, limit, (outcomes) => {
      for (const { tx, applied } of outcomes) {
        if (applied) {
          replayed++;
          last = { file: tx.file, position: tx.end, gtid: tx.gtid };
        }
        options.onTransaction?.(tx, applied);
      }
    });
    for await (const { raw, event } of options.events) {
      if (event.header.payloadOffset !== undefined || event.kind === 'transaction-payload') {
        throw unsupported(
          event,
          'compressed transaction payloads (MySQL binlog_transaction_compression) are not replayed yet',
        );
      }
      switch (event.kind) {
        case 'format-description':
          checksums = event.checksumAlgorithm === 1;
          // Outside any transaction: the server needs it to read the row events that follow.
          await batch.add(
            binlogStatement([raw.bytes]),
            true,
            `format description at ${event.header.file}:${event.header.position}`,
          );
          break;
        case 'mariadb-gtid':
          if (event.xa) throw unsupported(event, 'XA transactions are not replayed');
          if (preserve)
            group.steps.push({
              sql: session.forMariadbGtid(event.domainId, event.header.serverId, event.sequence),
            });
          if (!event.standalone) group.steps.push({ sql: 'BEGIN' });
          break;
        case 'gtid':
          if (preserve && event.gtid !== undefined)
            group.steps.push({ sql: `SET @@SESSION.GTID_NEXT='${event.gtid}'` });
          break;
        case 'query':
          addQuery(group, event, session, tables);
          break;
        case 'intvar':
        case 'rand':
        case 'user-var': {
          const sql = statementContext(event, collations);
          if (sql !== undefined) group.steps.push({ sql });
          break;
        }
        case 'table-map':
          tableNames.set(event.table.tableId, `${event.table.database}.${event.table.table}`);
          if (tables === undefined || tables.has(tableNameOf(event))) addRows(group, raw.bytes);
          break;
        case 'rows': {
          const name = tableNames.get(event.tableId) ?? '';
          const endsStatement = (event.flags & STMT_END) !== 0;
          if (tables === undefined || tables.has(name)) {
            addRows(group, raw.bytes);
            group.relevant = true;
          } else if (endsStatement) {
            markStatementEnd(group, checksums);
          }
          if (endsStatement) group.statementRows = [];
          break;
        }
        case 'xid':
          group.steps.push({ sql: 'COMMIT' });
          break;
        case 'xa-prepare':
        case 'incident':
        case 'begin-load-query':
        case 'execute-load-query':
          throw unsupported(event, `${event.kind} events are not replayed`);
        default:
          break;
      }
      const tx = assembler.push(event, 0);
      if (tx === undefined) continue;
      let applied = false;
      if (tx.gtid !== undefined && skip.has(tx.gtid)) {
        skipped.push(tx.gtid);
      } else if (!group.relevant && tables !== undefined) {
        filtered++;
      } else {
        const where = describeTransaction(tx);
        for (const step of group.steps) {
          if ('sql' in step) await batch.add(step.sql, false, where);
          else await batch.add(binlogStatement(step.rows), true, where);
        }
        applied = true;
      }
      await batch.mark({ value: { tx, applied }, where: describeTransaction(tx) });
      group = newGroup();
      throwIfInterrupted(options.signal);
    }
    await batch.finish();
    await restoreDurability?.();
    assertEndsAtTransaction(assembler);
  } finally {
    // Queries may still be in flight after a failure; the server answers them before the session ends.
    await batch?.close();
    await conn.end().catch(() => conn.destroy());
  }
  return { replayed, skipped, filtered, last, seconds: Math.round(performance.now() - started) / 1000 };
}

interface Outcome {
  readonly tx: Transaction;
  readonly applied: boolean;
}

/** An abort (Ctrl-C) stops the replay; the restore starts again from a fresh restore. */
export function throwIfInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new SalvageError('INTERNAL', 'the replay was interrupted', { hint: 'Run the restore again.' });
  }
}

/** A cut inside a transaction would apply half of it; callers bound events at transaction ends. */
export function assertEndsAtTransaction(assembler: TransactionAssembler): void {
  const open = assembler.finish();
  if (open !== undefined) {
    throw new SalvageError(
      'INTERNAL',
      `the binlog ended inside transaction ${open.gtid ?? `at ${open.file}:${open.start}`}`,
    );
  }
}

/** The batch size: a query never exceeds the target's max_allowed_packet (its base64 included). */
async function batchLimit(conn: Connection, wanted: number): Promise<number> {
  const [row] = await queryRows(conn, 'SELECT @@max_allowed_packet AS packet');
  const packet = Number(row?.packet ?? 0);
  // A batch never grows past the limit (a bigger statement goes alone); a little room for the header.
  return packet > 0 ? Math.max(1, Math.min(wanted, packet - 2 ** 16)) : wanted;
}

/** Turns per-commit redo log flushes off; the function returned turns them back on and flushes. */
export async function relaxDurability(conn: Connection): Promise<() => Promise<void>> {
  const [row] = await queryRows(conn, 'SELECT @@global.innodb_flush_log_at_trx_commit AS flush');
  const flush = Number(row?.flush ?? 1);
  if (flush === 0) return async () => undefined;
  await conn.query('SET GLOBAL innodb_flush_log_at_trx_commit = 0');
  return async () => {
    await conn.query(`SET GLOBAL innodb_flush_log_at_trx_commit = ${flush}`);
    // NO_WRITE_TO_BINLOG: a logged FLUSH would take a GTID of its own on the target.
    await conn.query('FLUSH NO_WRITE_TO_BINLOG ENGINE LOGS');
  };
}

function describeTransaction(tx: Transaction): string {
  return `${tx.gtid ?? 'transaction'} at ${tx.file}:${tx.start}`;
}

function newGroup(): Group {
  return { steps: [], relevant: false, statementRows: [] };
}

function addQuery(
  group: Group,
  event: Extract<BinlogEvent, { kind: 'query' }>,
  session: SessionContext,
  tables: ReadonlySet<string> | undefined,
): void {
  const text = event.query;
  if (/^\s*(BEGIN|COMMIT|ROLLBACK)\s*$/i.test(text)) {
    group.steps.push({ sql: text.trim().toUpperCase() });
    return;
  }
  if (/^\s*XA\s/i.test(text)) throw unsupported(event, 'XA transactions are not replayed');
  if (tables !== undefined && !mentionsTable(text, event.schema, tables)) return;
  group.steps.push(...session.forQuery(event).map((sql) => ({ sql })));
  group.steps.push({ sql: text });
  group.relevant = true;
}

/** Whether a statement names one of `tables` (qualified, or unqualified in its default schema). */
export function mentionsTable(text: string, schema: string, tables: ReadonlySet<string>): boolean {
  const lower = text.toLowerCase().replace(/`/g, '');
  for (const name of tables) {
    const [db, table] = name.toLowerCase().split('.') as [string, string];
    const word = new RegExp(`(^|[^\\w.])${escapeRegExp(table)}($|[^\\w])`);
    if (lower.includes(`${db}.${table}`) || (schema.toLowerCase() === db && word.test(lower))) return true;
  }
  return false;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function addRows(group: Group, bytes: Buffer): void {
  const step = group.steps.at(-1);
  if (step !== undefined && 'rows' in step) step.rows.push(bytes);
  else group.steps.push({ rows: [bytes] });
  group.statementRows.push(bytes);
}

/**
 * The statement's closing rows event was for a table left out: the last kept
 * rows event gets its STMT_END flag (and a new CRC32), or the server would
 * keep the statement open.
 */
function markStatementEnd(group: Group, checksums: boolean): void {
  const bytes = group.statementRows.at(-1);
  if (bytes === undefined || bytes[4] === 19 /* TABLE_MAP */) return;
  const flags = bytes.readUInt16LE(ROWS_FLAGS_OFFSET);
  bytes.writeUInt16LE(flags | STMT_END, ROWS_FLAGS_OFFSET);
  if (checksums) bytes.writeUInt32LE(crc32(bytes, 0, bytes.length - 4), bytes.length - 4);
}

function tableNameOf(event: TableMapEvent): string {
  return `${event.table.database}.${event.table.table}`;
}

/** One BINLOG statement carrying several events: the server decodes base64 chunk by chunk. */
function binlogStatement(events: readonly Buffer[]): string {
  return `BINLOG '${events.map((e) => e.toString('base64')).join('\n')}'`;
}

function unsupported(event: BinlogEvent, why: string): SalvageError {
  return new SalvageError('BINLOG_UNSUPPORTED', `${why} (${event.header.file}:${event.header.position})`, {
    context: { file: event.header.file, position: event.header.position },
  });
}
