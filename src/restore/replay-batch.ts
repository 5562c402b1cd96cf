/**
 * Round trips for the replay engine. Statements are queued and sent several
 * at a time as one multi-statement query, in binlog order, on the one replay
 * session: the server runs them exactly as if sent one by one. While the
 * server applies one query the next is decoded and built, so the client's and
 * the server's work overlap.
 *
 * A query ends after each BINLOG statement: MariaDB 10.11 answers a BINLOG
 * statement that applied row events without SERVER_MORE_RESULTS_EXISTS, so a
 * client stops reading the query's results there while the server goes on
 * with the statements after it, and the session's replies fall out of step.
 * A transaction of row events is thus one round trip
 * (`COMMIT; SET gtid; BEGIN; BINLOG`), and statement-logged transactions
 * share queries until the next BINLOG.
 */
import { SalvageError } from '../errors.js';
import type { Connection } from '../mysql/index.js';

/** What a queued statement belongs to, reported once the server has run it. */
export interface BatchMark<T> {
  readonly value: T;
  /** Describes where the statement came from, for an error message. */
  readonly where: string;
}

/**
 * Statements joined into queries of about `limitBytes`; `limitBytes` 0 sends
 * each statement alone (the reference path, on a single-statement connection).
 */
export class StatementBatch<T> {
  private parts: string[] = [];
  private bytes = 0;
  private marks: BatchMark<T>[] = [];
  private inFlight: Promise<void> | undefined;
  private failure: unknown;

  constructor(
    private readonly conn: Connection,
    private readonly limitBytes: number,
    /** Called in order with the marks of every batch the server finished. */
    private readonly onApplied: (values: readonly T[]) => void,
  ) {}

  /** Queues one statement; `endsQuery`: nothing may follow it in the same query. */
  async add(sql: string, endsQuery = false): Promise<void> {
    if (this.limitBytes === 0) {
      await this.settle();
      await runQuery(this.conn, sql, `statement: ${sql.slice(0, 200)}`);
      return;
    }
    const bytes = Buffer.byteLength(sql) + 3;
    // A statement bigger than the limit goes alone rather than with others.
    if (this.bytes > 0 && this.bytes + bytes > this.limitBytes) await this.send();
    this.parts.push(sql);
    this.bytes += bytes;
    if (endsQuery) await this.send();
  }

  /** Marks the end of a unit (a transaction): reported once everything queued before it has run. */
  async mark(mark: BatchMark<T>): Promise<void> {
    this.marks.push(mark);
    if (this.limitBytes === 0 || this.bytes >= this.limitBytes) await this.send();
  }

  /** Sends what is queued and waits until the server has run everything. */
  async finish(): Promise<void> {
    await this.send();
    await this.settle();
  }

  /** Starts the queued statements as one query after the previous one ends. */
  private async send(): Promise<void> {
    await this.settle();
    const marks = this.marks;
    const parts = this.parts;
    this.parts = [];
    this.marks = [];
    this.bytes = 0;
    if (parts.length === 0) {
      if (marks.length > 0) this.onApplied(marks.map((m) => m.value));
      return;
    }
    const where =
      marks.length > 0 ? `${marks[0]?.where} .. ${marks.at(-1)?.where}` : 'after the last transaction';
    // A newline before each `;`: a statement's text may end in a `--` or `#` comment.
    const query = parts.join('\n;\n');
    this.inFlight = runQuery(
      this.conn,
      query,
      `batch of ${parts.length} statements, ${where}`,
      parts.length,
    ).then(
      () => this.onApplied(marks.map((m) => m.value)),
      (error: unknown) => {
        this.failure = error;
      },
    );
  }

  /** Waits for the query in flight; rethrows its failure. */
  private async settle(): Promise<void> {
    const inFlight = this.inFlight;
    this.inFlight = undefined;
    if (inFlight !== undefined) await inFlight;
    if (this.failure !== undefined) throw this.failure;
  }
}

async function runQuery(conn: Connection, sql: string, what: string, statements = 1): Promise<void> {
  let result: unknown;
  try {
    [result] = await conn.query(sql);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new SalvageError('SERVER_ERROR', `replaying failed: ${message} (${what})`, {
      hint: 'The restored server refused a replayed statement; it was restored from a backup that does not match the binlog, or the statement depends on state salvage cannot reproduce.',
      cause: error,
    });
  }
  // One reply per statement, or the session's replies are out of step with its statements.
  const replies = statements > 1 && Array.isArray(result) ? result.length : 1;
  if (replies !== statements) {
    throw new SalvageError(
      'INTERNAL',
      `replaying failed: the server answered ${replies} of the ${statements} statements (${what})`,
      { hint: 'Run the restore again; report this if it repeats.' },
    );
  }
}
