/**
 * Round trips for the replay engine. Statements are queued and sent several
 * at a time as one multi-statement query, in binlog order, on the one replay
 * session: the server runs them exactly as if sent one by one. Queries do
 * not wait for the previous one's replies (mysql/pipeline.ts): while the
 * server applies one, the next ones are decoded, built and on their way.
 *
 * A query ends after each BINLOG statement: MariaDB 10.11 answers a BINLOG
 * statement that applied row events without SERVER_MORE_RESULTS_EXISTS, so a
 * client stops reading the query's results there while the server goes on
 * with the statements after it, and the session's replies fall out of step.
 * A transaction of row events is thus one query
 * (`COMMIT; SET gtid; BEGIN; BINLOG`), and statement-logged transactions
 * share queries until the next BINLOG.
 */
import { SalvageError } from '../errors.js';
import { type Connection, type QueryOutcome, QueryPipeline } from '../mysql/index.js';

/** What a queued statement belongs to, reported once the server has run it. */
export interface BatchMark<T> {
  readonly value: T;
  /** Describes where the statement came from, for an error message. */
  readonly where: string;
}

/**
 * First in every pipelined query: fails when the statement before it (the last
 * one the session ran, in the previous query) failed. Queries after a failed
 * one are already on their way to the server; each fails here in turn, so
 * nothing after a failure runs, let alone commits. `@@error_count` keeps the
 * previous statement's count for a statement that reads it.
 */
export const FAILED_BEFORE_GUARD =
  "SET @@session.sql_mode = IF(@@error_count = 0, @@session.sql_mode, 'an earlier replayed statement failed')";

/** Queries in flight at once, and about how many bytes of them. */
const WINDOW_QUERIES = 32;
const WINDOW_BYTES = 16 * 2 ** 20;

interface QueuedMark<T> extends BatchMark<T> {
  /** Statements of the query before the mark. */
  readonly after: number;
}

/**
 * Statements joined into queries of about `limitBytes`, several queries in
 * flight (mysql/pipeline.ts); `limitBytes` 0 sends each statement alone and
 * waits for it (the reference path, on a single-statement connection).
 */
export class StatementBatch<T> {
  private parts: string[] = [];
  private wheres: string[] = [];
  private bytes = 0;
  private marks: QueuedMark<T>[] = [];
  private failure: unknown;
  private lastApplied: string | undefined;
  private readonly pipeline: QueryPipeline;

  constructor(
    private readonly conn: Connection,
    private readonly limitBytes: number,
    /** Called in order with the marks of every batch the server finished. */
    private readonly onApplied: (values: readonly T[]) => void,
  ) {
    this.pipeline = new QueryPipeline(conn, WINDOW_QUERIES, Math.max(WINDOW_BYTES, limitBytes));
  }

  /** Queues one statement; `endsQuery`: nothing may follow it in the same query; `where`: for an error. */
  async add(sql: string, endsQuery = false, where = 'after the last transaction'): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (this.limitBytes === 0) {
      await runQuery(this.conn, sql, `statement: ${sql.slice(0, 200)}`);
      return;
    }
    const bytes = Buffer.byteLength(sql) + 3;
    // A statement bigger than the limit goes alone rather than with others.
    if (this.bytes > 0 && this.bytes + bytes > this.limitBytes) await this.send();
    this.parts.push(sql);
    this.wheres.push(where);
    this.bytes += bytes;
    if (endsQuery) await this.send();
  }

  /** Marks the end of a unit (a transaction): reported once everything queued before it has run. */
  async mark(mark: BatchMark<T>): Promise<void> {
    if (this.limitBytes === 0) {
      this.onApplied([mark.value]);
      return;
    }
    this.marks.push({ ...mark, after: this.parts.length });
    if (this.bytes >= this.limitBytes) await this.send();
  }

  /** Sends what is queued and waits until the server has run everything. */
  async finish(): Promise<void> {
    if (this.limitBytes === 0) return;
    await this.send();
    await this.settle();
  }

  /** After a failure elsewhere: waits for the queries in flight (or drops the connection) so it can be closed. */
  async close(): Promise<void> {
    await this.pipeline.drain().catch(() => this.pipeline.abandon());
  }

  /** Writes the queued statements as one query; its replies are checked as they come. */
  private async send(): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    const marks = this.marks;
    const parts = this.parts;
    const wheres = this.wheres;
    this.parts = [];
    this.wheres = [];
    this.marks = [];
    this.bytes = 0;
    if (parts.length === 0) {
      // Marks with no statement after the last query: acknowledged with everything before them.
      if (marks.length > 0)
        await this.pipeline.send('DO 0', 1, (outcome) => this.onOutcome(outcome, marks, ['']));
      return;
    }
    // A newline before each `;`: a statement's text may end in a `--` or `#` comment.
    const query = [FAILED_BEFORE_GUARD, ...parts].join('\n;\n');
    await this.pipeline.send(query, parts.length + 1, (outcome) =>
      this.onOutcome({ ...outcome, replies: outcome.replies - 1 }, marks, wheres),
    );
    if (this.failure !== undefined) throw this.failure;
  }

  /** One query's replies: the marks its succeeded statements cover are applied; the first failure is kept. */
  private onOutcome(outcome: QueryOutcome, marks: readonly QueuedMark<T>[], wheres: readonly string[]): void {
    const applied = outcome.error ? marks.filter((m) => m.after <= outcome.replies) : marks;
    if (applied.length > 0) {
      this.onApplied(applied.map((m) => m.value));
      this.lastApplied = applied.at(-1)?.where;
    }
    if (outcome.error === undefined || this.failure !== undefined) return;
    const failed = wheres[Math.max(0, outcome.replies)] ?? 'the query';
    const last = this.lastApplied ? `${this.lastApplied} is the last one applied` : 'none was applied';
    this.failure = replayError(outcome.error, `${failed}; of the transactions replayed, ${last}`, {
      failedAt: failed,
      lastApplied: this.lastApplied ?? null,
    });
  }

  /** Waits until every query in flight is answered; rethrows the first failure. */
  private async settle(): Promise<void> {
    await this.pipeline.drain().catch((error: unknown) => {
      this.failure ??= replayError(
        error,
        `the connection failed; of the transactions replayed, ${this.lastApplied ?? 'none'} is the last one acknowledged`,
        { lastApplied: this.lastApplied ?? null },
      );
    });
    if (this.failure !== undefined) throw this.failure;
  }
}

function replayError(error: unknown, what: string, context?: Record<string, unknown>): SalvageError {
  const message = error instanceof Error ? error.message : String(error);
  return new SalvageError('SERVER_ERROR', `replaying failed: ${message} (${what})`, {
    hint: 'The restored server refused a replayed statement; it was restored from a backup that does not match the binlog, or the statement depends on state salvage cannot reproduce.',
    cause: error,
    ...(context ? { context } : {}),
  });
}

async function runQuery(conn: Connection, sql: string, what: string): Promise<void> {
  try {
    await conn.query(sql);
  } catch (error) {
    throw replayError(error, what);
  }
}
