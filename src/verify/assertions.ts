/**
 * User assertions: a file of SQL queries, each of which must return no rows
 * ("SELECT id FROM orders WHERE total < 0"). They run in a READ ONLY
 * transaction that is rolled back, so a statement that would write fails
 * instead of changing the server being verified.
 */
import { readFile } from 'node:fs/promises';
import { SalvageError } from '../errors.js';
import { type ConnectTarget, queryRows, withConnection } from '../mysql/index.js';

export interface AssertionResult {
  readonly statement: string;
  readonly passed: boolean;
  /** Rows returned (0 when it passed). */
  readonly rows: number;
  /** The first rows returned, to show what broke the assertion. */
  readonly sample: readonly Record<string, unknown>[];
  /** The server's error when the statement failed to run. */
  readonly error: string | null;
}

const SAMPLE_ROWS = 3;

export async function readAssertions(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new SalvageError(
      'FILE_NOT_FOUND',
      `Cannot read the assertion file ${path}: ${(error as Error).message}`,
      {
        hint: 'Give --assert a file of SQL queries separated by semicolons, each returning no rows when all is well.',
        context: { file: path },
      },
    );
  }
  const statements = splitStatements(text);
  if (statements.length === 0) {
    throw new SalvageError('BAD_INPUT', `The assertion file ${path} holds no SQL statement.`, {
      hint: 'Write one query per assertion, separated by semicolons; each must return no rows when all is well.',
      context: { file: path },
    });
  }
  return statements;
}

export async function runAssertions(
  target: ConnectTarget,
  statements: readonly string[],
): Promise<AssertionResult[]> {
  return withConnection(target, async (conn) => {
    const results: AssertionResult[] = [];
    for (const statement of statements) {
      await queryRows(conn, 'START TRANSACTION READ ONLY');
      try {
        const [result] = await conn.query(statement);
        const rows = Array.isArray(result) ? (result as Record<string, unknown>[]) : [];
        results.push({
          statement,
          passed: rows.length === 0,
          rows: rows.length,
          sample: rows.slice(0, SAMPLE_ROWS),
          error: null,
        });
      } catch (error) {
        results.push({ statement, passed: false, rows: 0, sample: [], error: (error as Error).message });
      } finally {
        await queryRows(conn, 'ROLLBACK');
      }
    }
    return results;
  });
}

/**
 * Splits SQL text at semicolons outside quotes, backticks and comments.
 * Comments are dropped; a statement that is only a comment is no statement.
 */
export function splitStatements(text: string): string[] {
  const statements: string[] = [];
  let current = '';
  let i = 0;
  const flush = (): void => {
    const statement = current.trim();
    if (statement !== '') statements.push(statement);
    current = '';
  };
  while (i < text.length) {
    const ch = text[i]!;
    const next = text[i + 1];
    if (ch === "'" || ch === '"' || ch === '`') {
      const end = closingQuote(text, i);
      current += text.slice(i, end);
      i = end;
    } else if ((ch === '-' && next === '-' && /[\s]/.test(text[i + 2] ?? ' ')) || ch === '#') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end;
    } else if (ch === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
      current += ' ';
    } else if (ch === ';') {
      flush();
      i++;
    } else {
      current += ch;
      i++;
    }
  }
  flush();
  return statements;
}

/** The index just past the quote that closes the one at `start` (doubled quotes and backslashes escape). */
function closingQuote(text: string, start: number): number {
  const quote = text[start]!;
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '\\' && quote !== '`') i += 2;
    else if (ch === quote && text[i + 1] === quote) i += 2;
    else if (ch === quote) return i + 1;
    else i++;
  }
  return text.length;
}
