/**
 * The locate step: the bad change found from the migration tool's history
 * table or from statement text. The best candidate is taken; the others are
 * journaled so the report shows what else was considered.
 */
import { SalvageError } from '../errors.js';
import { type LocateQuery, locate } from '../locate/index.js';
import type { ConnectTarget } from '../mysql/index.js';
import { statementPattern } from '../timeline/index.js';
import type { JsonObject } from './journal.js';
import { toJsonObject } from './json.js';

const SHOWN_CANDIDATES = 5;

export async function locateBadChange(
  source: ConnectTarget,
  search: { migration: string | null; grep: string | null },
): Promise<JsonObject> {
  const query: LocateQuery =
    search.migration !== null
      ? { kind: 'migration', id: search.migration }
      : { kind: 'grep', pattern: statementPattern(search.grep ?? '') };
  const result = await locate({ source, query, limit: SHOWN_CANDIDATES });
  const best = result.candidates[0]!;
  const gtid = best.transaction.gtid;
  if (gtid === undefined) {
    throw new SalvageError(
      'BAD_INPUT',
      `The bad change at ${best.transaction.file}:${best.transaction.start} has no GTID.`,
      {
        hint: 'salvage recover skips and stops at transactions by GTID: enable gtid_mode (MySQL), or restore by position with `salvage restore --at`.',
      },
    );
  }
  return toJsonObject({
    gtids: [gtid],
    why: best.why,
    migration: result.migration ?? null,
    candidates: result.candidates.map((c) => ({
      gtid: c.transaction.gtid,
      file: c.transaction.file,
      start: c.transaction.start,
      ts: c.transaction.ts,
      statement: c.transaction.statements[0]?.slice(0, 200) ?? null,
      score: c.score,
      why: c.why,
    })),
    warnings: result.warnings.map((w) => w.message),
  });
}
