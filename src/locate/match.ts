/**
 * Which applied migration an id the user gives names: exactly (a version),
 * else as the start of, else as a part of a name or script. An id found
 * nowhere is an error listing the nearest ids, so a typo costs one retry.
 */
import { SalvageError } from '../errors.js';
import { HISTORY_ADAPTERS, type MigrationRecord } from './history.js';

type Strength = 'exact' | 'prefix' | 'part';
const ORDER: readonly Strength[] = ['exact', 'prefix', 'part'];

/** How strongly `id` names this record, or undefined. */
function matchStrength(record: MigrationRecord, id: string): Strength | undefined {
  const { adapter } = record.history;
  const value = (column: string): string => {
    const v = record.row[column];
    return v === null || v === undefined ? '' : String(v).toLowerCase();
  };
  const wanted = id.toLowerCase();
  // Flyway versions are written V3 in file names but stored as 3.
  const versionless = adapter.tool === 'flyway' && /^v\d/.test(wanted) ? wanted.slice(1) : wanted;
  if (adapter.exact.some((c) => value(c) === wanted || value(c) === versionless)) return 'exact';
  if (adapter.partial.some((c) => value(c).startsWith(wanted))) return 'prefix';
  if (wanted.length >= 3 && adapter.partial.some((c) => value(c).includes(wanted))) return 'part';
  return undefined;
}

/** The record `id` names; `tool:id` restricts to one tool's history. */
export function findMigration(records: readonly MigrationRecord[], id: string): MigrationRecord {
  const qualified = /^([a-z-]+):(.+)$/i.exec(id);
  const tool = qualified && HISTORY_ADAPTERS.some((a) => a.tool === qualified[1]?.toLowerCase());
  const pool = tool
    ? records.filter((r) => r.history.adapter.tool === qualified?.[1]?.toLowerCase())
    : records;
  const wanted = tool ? (qualified?.[2] as string) : id;
  for (const strength of ORDER) {
    const hits = pool.filter((r) => matchStrength(r, wanted) === strength);
    if (hits.length === 1) return hits[0] as MigrationRecord;
    if (hits.length > 1) {
      throw new SalvageError(
        'BAD_INPUT',
        `--migration ${JSON.stringify(id)} names ${hits.length} migrations: ${hits.slice(0, 8).map(describe).join('; ')}`,
        { hint: 'Give the full version or name, or prefix it with the tool, e.g. --migration flyway:3.' },
      );
    }
  }
  const nearest = nearestMigrations(pool, wanted, 5);
  const tables = [
    ...new Set(records.map((r) => `${r.history.adapter.tool} ${r.history.schema}.${r.history.table}`)),
  ];
  throw new SalvageError(
    'MIGRATION_NOT_FOUND',
    `no migration ${JSON.stringify(id)} in ${tables.join(', ')}${nearest.length > 0 ? `; nearest: ${nearest.map(describe).join('; ')}` : ' (they are empty)'}`,
    { context: { migration: id, nearest: nearest.map((r) => r.label) } },
  );
}

function describe(record: MigrationRecord): string {
  return `${record.label} (${record.history.adapter.tool})`;
}

/** Records whose ids are closest to `id` by edit distance (a shared prefix counts as close). */
export function nearestMigrations(
  records: readonly MigrationRecord[],
  id: string,
  limit: number,
): MigrationRecord[] {
  const wanted = id.toLowerCase();
  const distance = (record: MigrationRecord): number => {
    const { adapter } = record.history;
    const ids = [...adapter.exact, ...adapter.partial]
      .map((c) => record.row[c])
      .filter((v) => v !== null && v !== undefined)
      .map((v) => String(v).toLowerCase());
    return Math.min(
      ...ids.map((v) =>
        Math.min(editDistance(wanted, v), editDistance(wanted, v.slice(0, wanted.length)) + 1),
      ),
    );
  };
  return records
    .map((record) => ({ record, d: distance(record) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, limit)
    .map((x) => x.record);
}

/** Levenshtein distance. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}
