import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomically } from '../../src/undo/index.js';
import { type SqlBytes, SqlWriter, sqlText } from '../../src/undo/sql-text.js';

function written(write: (out: SqlWriter) => void, out = new SqlWriter()): SqlBytes {
  out.begin();
  write(out);
  return out.end();
}

const bytesOf = (sql: SqlBytes): Buffer => sql.slab.subarray(sql.start, sql.end);

describe('SQL written as bytes', () => {
  it('writes text as UTF-8, whatever it holds', () => {
    for (const text of ['UPDATE `t` SET ', 'café', "_utf8mb4'日本語'", 'a😀b', 'x\u0000y', '']) {
      expect(bytesOf(written((out) => out.text(text)))).toEqual(Buffer.from(text, 'utf8'));
    }
  });

  it('writes numbers as String() does', () => {
    for (const n of [0, -0, 7, -12, 1234567890, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53 + 2, 1.5, -0.25, 1e21]) {
      expect(sqlText(written((out) => out.number(n)))).toBe(String(n));
    }
  });

  it("writes bytes as _binary'...' only when every byte is printable and no quote or backslash", () => {
    const literal = (bytes: number[]): string =>
      sqlText(written((out) => out.binary(Uint8Array.from(bytes))));
    expect(literal([0x61, 0x20, 0x7e])).toBe("_binary'a ~'");
    expect(literal([])).toBe("_binary''");
    expect(literal([0x61, 0x27])).toBe("X'6127'");
    expect(literal([0x5c])).toBe("X'5c'");
    expect(literal([0x1f, 0x7f, 0x80, 0xff])).toBe("X'1f7f80ff'");
  });

  it('keeps every statement whole when one outgrows its slab, and each where it was written', () => {
    const out = new SqlWriter();
    const expected: string[] = [];
    const statements: SqlBytes[] = [];
    // Statements of 1000 bytes and more, past several 1 MiB slabs, with one of 3 MB among them.
    for (let i = 0; i < 3000; i++) {
      const text =
        i === 1500 ? 'y'.repeat(3_000_000) : `${String(i).padStart(6, '0')}${'x'.repeat(994 + (i % 7))}`;
      expected.push(text);
      statements.push(
        written((w) => {
          // In pieces: the move to a new slab happens mid-statement.
          w.text(text.slice(0, 500));
          w.text(text.slice(500));
        }, out),
      );
    }
    expect(new Set(statements.map((s) => s.slab)).size).toBeGreaterThanOrEqual(3);
    expect(statements.map(sqlText)).toEqual(expected);
  });

  it('drops a discarded statement', () => {
    const out = new SqlWriter();
    const kept = written((w) => w.text('kept'), out);
    out.begin();
    out.text('dropped');
    out.discard();
    const next = written((w) => w.text('next'), out);
    expect(sqlText(kept)).toBe('kept');
    expect(next.start).toBe(kept.end);
  });
});

describe('writeFileAtomically with lines', () => {
  const dir = mkdtempSync(join(tmpdir(), 'salvage-lines-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes text and byte lines in order, across pieces and with a line larger than a piece', async () => {
    const out = new SqlWriter();
    const lines: (string | SqlBytes)[] = [];
    const expected: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const text = i === 2500 ? `-- ${'z'.repeat(2_500_000)}` : `${i}: ${'é'.repeat(i % 300)}`;
      expected.push(text);
      lines.push(i % 2 === 0 ? text : written((w) => w.text(text), out));
    }
    const path = join(dir, 'lines.sql');
    await writeFileAtomically(path, lines);
    expect(readFileSync(path, 'utf8')).toBe(`${expected.join('\n')}\n`);
  });
});
