/**
 * `binlog rows --json` encodes rows events straight from their row images
 * (rowsEventLines); the text must be exactly what encoding the decoded
 * values gives (rowsEventJson over rowsOf), on every rows event of every
 * fixture: every column type, charsets, BINARY padding, ENUM/SET, JSON,
 * partial images and partial JSON updates.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import {
  readBinlog,
  rowsEventJson,
  rowsEventLines,
  rowsOf,
  type TableMapDetails,
} from '../../src/binlog/index.js';
import { MYSQL8_FIXTURES } from '../support/paths.js';

test('rows encoded from the bytes equal rows encoded from decoded values, on every fixture', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'salvage-rowjson-'));
  try {
    const sakila = join(tmp, 'mysql-bin.sakila');
    writeFileSync(
      sakila,
      execFileSync('gunzip', ['-c', join(MYSQL8_FIXTURES, 'mysql-bin.sakila.gz')], { maxBuffer: 1 << 24 }),
    );
    const files = readdirSync(MYSQL8_FIXTURES)
      .filter((f) => f !== 'README.md' && !f.endsWith('.gz'))
      .map((f) => join(MYSQL8_FIXTURES, f));
    let events = 0;
    let hex = 0;
    for (const file of [...files, sakila]) {
      let gtid: string | undefined;
      for await (const e of readBinlog({ files: [file] })) {
        if (e.kind === 'gtid' || e.kind === 'mariadb-gtid') gtid = e.gtid;
        if (e.kind !== 'rows') continue;
        const table = e.table as TableMapDetails;
        const direct = rowsEventLines(gtid, e);
        expect(direct, `${file}:${e.header.position}`).toBe(
          rowsEventJson({ gtid, event: e, table, rows: rowsOf(e) }),
        );
        if (direct.includes('{"hex":')) hex++;
        events++;
      }
    }
    expect(events).toBeGreaterThan(8000);
    // The byte-level path for binary values is exercised, not only the fallback.
    expect(hex).toBeGreaterThan(10);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
