import { describe, expect, it } from 'vitest';
import { isSalvageError } from '../../src/errors.js';
import { parseTableFilter, splitStatements } from '../../src/verify/index.js';

describe('splitStatements', () => {
  it('splits at semicolons outside quotes and comments, dropping comments', () => {
    expect(
      splitStatements(`-- a comment; not a statement
        SELECT 'a;b', "c;d", \`e;f\` FROM t;  # trailing; comment
        /* block; comment */ SELECT 'it''s; fine', 'back\\';slash' FROM u
        ;;`),
    ).toEqual(['SELECT \'a;b\', "c;d", `e;f` FROM t', "SELECT 'it''s; fine', 'back\\';slash' FROM u"]);
  });

  it('keeps a final statement without a semicolon and finds none in comments only', () => {
    expect(splitStatements('SELECT 1')).toEqual(['SELECT 1']);
    expect(splitStatements('-- nothing\n/* here */')).toEqual([]);
    // "--" not followed by a space is an operator, not a comment (MySQL's rule).
    expect(splitStatements('SELECT 1--1')).toEqual(['SELECT 1--1']);
  });
});

describe('parseTableFilter', () => {
  it('reads tables and whole schemas, backtick-quoted or not', () => {
    expect(parseTableFilter('shop.orders, `my.db`.`odd``name`,crm.*')).toEqual({
      tables: [
        { schema: 'shop', table: 'orders' },
        { schema: 'my.db', table: 'odd`name' },
      ],
      schemas: ['crm'],
    });
  });

  it('refuses an entry without a schema, saying how to write it', () => {
    const error = (() => {
      try {
        parseTableFilter('orders');
      } catch (e) {
        return e;
      }
    })();
    expect(isSalvageError(error) && error.code).toBe('BAD_INPUT');
    expect((error as Error).message).toMatch(/"orders" is not db\.table/);
  });
});
