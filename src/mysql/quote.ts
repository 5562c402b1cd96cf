/**
 * SQL quoting for statements salvage writes itself (undo scripts, restores).
 * Values are quoted for a server with the default sql_mode: backslash escapes
 * on (NO_BACKSLASH_ESCAPES off), which is what connect() gives.
 */
import { SalvageError } from '../errors.js';

/** `name`, with backticks doubled. */
export function quoteIdentifier(name: string): string {
  if (name === '' || name.includes('\0')) {
    throw new SalvageError('BAD_INPUT', `${JSON.stringify(name)} is not a valid identifier.`);
  }
  return `\`${name.replaceAll('`', '``')}\``;
}

/** `schema`.`table` */
export function quoteTableName(schema: string, table: string): string {
  return `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;
}

/** A value a column can hold, as salvage carries it. */
export type SqlValue = string | number | bigint | boolean | Uint8Array | null;

/**
 * A SQL literal. Strings are quoted with backslash escapes; bytes as X'..'
 * (exact whatever the connection character set); numbers must be finite.
 */
export function quoteValue(value: SqlValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new SalvageError('BAD_INPUT', `${value} cannot be written as a SQL value.`);
    return String(value);
  }
  if (value instanceof Uint8Array)
    return value.length === 0 ? "''" : `X'${Buffer.from(value).toString('hex')}'`;
  let escaped = '';
  for (const ch of value) escaped += CHAR_ESCAPES[ch] ?? ch;
  return `'${escaped}'`;
}

const CHAR_ESCAPES: Record<string, string> = {
  '\0': '\\0',
  '\n': '\\n',
  '\r': '\\r',
  '\b': '\\b',
  '\t': '\\t',
  '\x1a': '\\Z',
  "'": "\\'",
  '"': '\\"',
  '\\': '\\\\',
};
