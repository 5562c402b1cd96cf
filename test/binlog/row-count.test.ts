/**
 * Counting rows by skipping values must consume exactly the bytes the value
 * decoders consume, on every rows event of every fixture (payloads included),
 * and a rows event's images read in place are the bytes of its `rows` view.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import {
  ByteReader,
  decodeRowImage,
  decodeRows,
  readBinlog,
  rowsOf,
  type TableMapDetails,
} from '../../src/binlog/index.js';
import { countRows, skipValue } from '../../src/binlog/row-count.js';
import { MYSQL8_FIXTURES } from '../support/paths.js';

const FIXTURES = MYSQL8_FIXTURES;

test('skipping and decoding agree on every rows event of every fixture', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'salvage-count-'));
  try {
    const sakila = join(tmp, 'mysql-bin.sakila');
    writeFileSync(
      sakila,
      execFileSync('gunzip', ['-c', join(FIXTURES, 'mysql-bin.sakila.gz')], { maxBuffer: 1 << 24 }),
    );
    const files = readdirSync(FIXTURES)
      .filter((f) => f !== 'README.md' && !f.endsWith('.gz'))
      .map((f) => join(FIXTURES, f));
    let events = 0;
    for (const file of [...files, sakila]) {
      for await (const e of readBinlog({ files: [file] })) {
        if (e.kind !== 'rows') continue;
        const table = e.table as TableMapDetails;
        const reader = () => new ByteReader(e.rows, 0, e.rows.length);
        // The view made on first use holds the bytes readers step through in place, and decodes the same.
        expect(e.rows.equals(e.rowBytes.subarray(e.rowsStart, e.rowsEnd))).toBe(true);
        expect(rowsOf(e), `${file}:${e.header.position}`).toEqual(decodeRows(reader(), table, e));
        expect(countRows(reader(), table, e), `${file}:${e.header.position}`).toBe(
          decodeRows(reader(), table, e).length,
        );
        if (!e.partial) {
          // The first image: same end offset whether skipped or decoded.
          const decoded = reader();
          decodeRowImage(decoded, table, e.present);
          const skipped = reader();
          const nulls = skipped.bitmap(e.present.count());
          let image = 0;
          table.columns.forEach((column, i) => {
            if (e.present.has(i) && !nulls.has(image++)) skipValue(skipped, column);
          });
          expect(skipped.pos, `${file}:${e.header.position}`).toBe(decoded.pos);
        }
        events++;
      }
    }
    expect(events).toBeGreaterThan(8000);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
