/**
 * The file source reads in chunks through one reused buffer: whatever the
 * chunk size, every event comes out whole and identical to the file's bytes,
 * including events larger than a chunk.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import {
  BINLOG_MAGIC,
  readBinlogFile,
  readBinlogFileBatches,
  resolveBinlogFiles,
} from '../../src/binlog/index.js';
import { MYSQL8_FIXTURES } from '../support/paths.js';

const FIXTURES = MYSQL8_FIXTURES;

test.each(['mysql-bin.compressed', 'mysql-bin.checksum-none', 'json.binlog.000001'])(
  '%s at every chunk size',
  async (name) => {
    const path = join(FIXTURES, name);
    const bytes = readFileSync(path);
    for (const chunkSize of [19, 20, 64, 333, 4096, 1 << 20]) {
      let position = 4;
      for await (const event of readBinlogFile(path, { chunkSize })) {
        expect(event.position).toBe(position);
        expect(
          Buffer.compare(event.bytes, bytes.subarray(position, position + event.bytes.length)),
          `${chunkSize}@${position}`,
        ).toBe(0);
        position += event.bytes.length;
      }
      expect(position).toBe(bytes.length);
    }
  },
);

test('a batch stays valid until the next one is requested', async () => {
  const path = join(FIXTURES, 'mysql-bin.checksum-crc32');
  const bytes = readFileSync(path);
  let batches = 0;
  for await (const batch of readBinlogFileBatches(path, { chunkSize: 512 })) {
    for (const e of batch)
      expect(Buffer.compare(e.bytes, bytes.subarray(e.position, e.position + e.bytes.length))).toBe(0);
    batches++;
  }
  expect(batches).toBeGreaterThan(20);
});

test('a directory without an index is read in numeric order, past .999999', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'salvage-binlog-names-'));
  try {
    for (const name of ['bin.999998', 'bin.1000000', 'bin.999999'])
      writeFileSync(join(dir, name), BINLOG_MAGIC);
    const files = await resolveBinlogFiles({ dir });
    expect(files.map((file) => file.slice(dir.length + 1))).toEqual([
      'bin.999998',
      'bin.999999',
      'bin.1000000',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
