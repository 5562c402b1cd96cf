/** Running introspection queries with errors that say which statement failed on which server. */
import { SalvageError } from '../errors.js';
import type { Connection } from './connect.js';

export type Row = Record<string, unknown>;

/** Rows of a statement; a server error becomes SERVER_ERROR naming the statement. */
export async function queryRows(
  conn: Connection,
  sql: string,
  params: readonly unknown[] = [],
): Promise<Row[]> {
  try {
    const [rows] = await conn.query(sql, params as unknown[]);
    return rows as Row[];
  } catch (error) {
    throw serverError(error, sql);
  }
}

/** A result row as the server sent it: each value's text-protocol bytes, null for NULL. */
export type RawRow = (Buffer | null)[];

/**
 * Rows of a statement with nothing decoded: every value as the bytes the
 * server sent (text protocol: numbers and dates as text, strings in the
 * results charset, binary strings as they are), for byte-exact comparisons.
 */
export async function queryRawRows(conn: Connection, sql: string): Promise<RawRow[]> {
  try {
    // typeCast false: mysql2 reads each value as its bytes directly, without a callback per value.
    const [rows] = await conn.query({ sql, rowsAsArray: true, typeCast: false });
    return rows as unknown as RawRow[];
  } catch (error) {
    throw serverError(error, sql);
  }
}

/** The server's numeric error of a failed statement (e.g. 1227 access denied, 1381 no binary logging). */
export function serverErrno(error: unknown): number | undefined {
  const cause = error instanceof SalvageError ? error.cause : error;
  const errno = (cause as { errno?: unknown } | null)?.errno;
  return typeof errno === 'number' ? errno : undefined;
}

export function serverError(error: unknown, sql: string): SalvageError {
  if (error instanceof SalvageError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new SalvageError('SERVER_ERROR', `${sql.split('\n')[0]} failed: ${message}`, {
    context: { statement: sql },
    cause: error,
  });
}
