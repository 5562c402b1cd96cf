/** The tables an undo touches and their checksums: how a rehearsal and the source are compared. */
import { type Connection, queryRows, quoteTableName } from '../mysql/index.js';
import type { UndoPlan } from './plan.js';

/** `db.table` of every table the plan touches. */
export function affectedTables(plan: UndoPlan): string[] {
  return [
    ...new Set(plan.chains.flatMap((c) => c.statements.map((s) => `${s.table.schema}.${s.table.table}`))),
  ];
}

/** CHECKSUM TABLE ... EXTENDED of each table. */
export async function tableChecksums(
  conn: Connection,
  tables: readonly string[],
): Promise<Record<string, string>> {
  if (tables.length === 0) return {};
  const names = tables.map((t) => {
    const [schema = '', ...rest] = t.split('.');
    return quoteTableName(schema, rest.join('.'));
  });
  const rows = await queryRows(conn, `CHECKSUM TABLE ${names.join(', ')} EXTENDED`);
  return Object.fromEntries(rows.map((r) => [String(r.Table), String(r.Checksum)]));
}
