/**
 * The GTID state a MySQL 8 binlog starts with (PREVIOUS_GTIDS) holds every
 * transaction of the files before it and none of its own or later ones, on
 * real multi-file fixtures; the first wanted transaction is then found in
 * its own file.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  findTransactionStart,
  parseGtidState,
  readBinlog,
  readTransactions,
} from '../../src/binlog/index.js';
import { MYSQL8_FIXTURES } from '../support/paths.js';

async function fileFacts(path: string): Promise<{ state: string | undefined; gtids: string[] }> {
  let state: string | undefined;
  const gtids: string[] = [];
  for await (const tx of readTransactions(
    (async function* () {
      for await (const event of readBinlog({ files: [path] })) {
        if (event.kind === 'previous-gtids') state = event.gtidSet;
        yield event;
      }
    })(),
  )) {
    if (tx.gtid !== undefined) gtids.push(tx.gtid);
  }
  return { state, gtids };
}

describe.each([
  ['pso-binlog', 3],
  ['pbs-gtid-binlog', 2],
])('%s', (stem, count) => {
  const files = Array.from({ length: count }, (_, i) => join(MYSQL8_FIXTURES, `${stem}.00000${i + 1}`));

  it('says which transactions each file was logged after, and the start is found in its own file', async () => {
    const facts = await Promise.all(files.map(fileFacts));
    expect(facts.filter((f) => f.gtids.length > 0).length).toBeGreaterThan(1);
    expect(facts.slice(1).every((f) => f.state !== undefined)).toBe(true);
    for (const [k, { state }] of facts.entries()) {
      if (state === undefined) continue;
      const before = parseGtidState(state);
      for (const [j, other] of facts.entries()) {
        for (const gtid of other.gtids) expect(before.has(gtid), `${gtid} before file ${k + 1}`).toBe(j < k);
      }
    }
    for (const [k, { gtids }] of facts.entries()) {
      const last = gtids.at(-1);
      if (last === undefined) continue;
      const start = await findTransactionStart(files, new Set([last]));
      expect(start?.fileIndex).toBe(k);
    }
  });
});
