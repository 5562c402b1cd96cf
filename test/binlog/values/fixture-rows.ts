/** Decodes the rows events of a binlog file through the real file source and event stream. */

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { decodeEvents } from '../../../src/binlog/event-stream.js';
import { rowsReader } from '../../../src/binlog/events/rows-event.js';
import { decodeRows, type RowImages } from '../../../src/binlog/rows.js';
import { readBinlogFile } from '../../../src/binlog/sources/files.js';
import type { RowOperation, TableMapDetails } from '../../../src/binlog/types.js';
import { MYSQL8_FIXTURES } from '../../support/paths.js';

export const FIXTURES = MYSQL8_FIXTURES;

export interface DecodedRowsEvent {
  readonly position: number;
  readonly type: number;
  readonly op: RowOperation;
  readonly table: TableMapDetails;
  readonly rows: RowImages[];
}

/** Every rows event of a binlog file (a .gz fixture is unpacked to a temporary file first). */
export async function rowsEventsOf(path: string): Promise<DecodedRowsEvent[]> {
  let file = path;
  if (path.endsWith('.gz')) {
    file = join(mkdtempSync(join(tmpdir(), 'salvage-fixture-')), basename(path, '.gz'));
    writeFileSync(file, gunzipSync(readFileSync(path)));
  }
  const out: DecodedRowsEvent[] = [];
  for await (const event of decodeEvents(readBinlogFile(file))) {
    if (event.kind !== 'rows' || event.table === undefined) continue;
    const context = { file: event.header.file, position: event.header.position };
    out.push({
      position: event.header.position,
      type: event.header.type,
      op: event.op,
      table: event.table,
      rows: decodeRows(rowsReader(event, context), event.table, event),
    });
  }
  return out;
}
