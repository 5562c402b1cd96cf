import { SalvageError } from '../errors.js';

/**
 * The regular expression a `--grep` searches statement text with (QUERY,
 * ANNOTATE_ROWS, ROWS_QUERY). Case-insensitive, as SQL keywords and
 * identifiers usually are, so `update users` finds `UPDATE users`.
 */
export function statementPattern(text: string): RegExp {
  try {
    return new RegExp(text, 'i');
  } catch (error) {
    throw new SalvageError(
      'USAGE',
      `--grep ${JSON.stringify(text)} is not a valid regular expression: ${(error as Error).message}`,
    );
  }
}
