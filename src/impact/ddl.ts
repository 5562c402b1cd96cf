/**
 * Schema changes among the bad transactions. The binlog holds no before-image
 * of a DROP, TRUNCATE or narrowing ALTER, so such changes cannot be undone
 * from it: they are found here and explained, with a restore plan.
 */

export type SchemaChangeKind =
  | 'drop-table'
  | 'truncate'
  | 'drop-column'
  | 'alter-column'
  | 'drop-database'
  | 'other';

export interface SchemaChange {
  readonly gtid: string;
  readonly kind: SchemaChangeKind;
  readonly statement: string;
  /** `db.table` names the statement names (best effort: qualified by the statement's own text). */
  readonly tables: readonly string[];
  /** What was lost, in words. */
  readonly loss: string;
}

const IDENT = '(`(?:[^`]|``)+`|[\\w$]+)(?:\\s*\\.\\s*(`(?:[^`]|``)+`|[\\w$]+))?';

/** The schema change a statement makes, or undefined for DML and transaction control. */
export function classifyStatement(gtid: string, schema: string, statement: string): SchemaChange | undefined {
  const text = statement.replace(/\/\*.*?\*\//gs, ' ').trim();
  const ddl = /^(CREATE|ALTER|DROP|TRUNCATE|RENAME)\b/i.exec(text);
  if (!ddl) return undefined;
  const make = (kind: SchemaChangeKind, tables: string[], loss: string): SchemaChange => ({
    gtid,
    kind,
    statement: statement.trim(),
    tables,
    loss,
  });
  let m = /^DROP\s+(?:TEMPORARY\s+)?TABLES?\s+(?:IF\s+EXISTS\s+)?(.+)$/is.exec(text);
  if (m) return make('drop-table', namesIn(schema, m[1] ?? ''), 'the whole table: schema and every row');
  m = new RegExp(`^TRUNCATE\\s+(?:TABLE\\s+)?${IDENT}`, 'i').exec(text);
  if (m) return make('truncate', [qualified(schema, m[1], m[2])], 'every row of the table');
  m = /^DROP\s+(?:DATABASE|SCHEMA)\s+(?:IF\s+EXISTS\s+)?(\S+)/i.exec(text);
  if (m) return make('drop-database', [`${unquote(m[1] ?? '')}.*`], 'every table of the database');
  m = new RegExp(`^ALTER\\s+(?:ONLINE\\s+)?(?:IGNORE\\s+)?TABLE\\s+${IDENT}\\s+(.*)$`, 'is').exec(text);
  if (m) {
    const table = qualified(schema, m[1], m[2]);
    const rest = m[3] ?? '';
    if (/\bDROP\s+(?:COLUMN\s+)?(?!INDEX|KEY|PRIMARY|FOREIGN|CONSTRAINT|PARTITION|CHECK)/i.test(rest)) {
      return make('drop-column', [table], 'the dropped column(s) of every row');
    }
    if (/\b(MODIFY|CHANGE)\b/i.test(rest)) {
      return make(
        'alter-column',
        [table],
        'values a narrower type truncated or converted (if it was narrower)',
      );
    }
    return make('other', [table], 'nothing row-level is known to be lost; check the statement');
  }
  return make('other', [], 'nothing row-level is known to be lost; check the statement');
}

function namesIn(schema: string, list: string): string[] {
  return list
    .replace(/\s+(RESTRICT|CASCADE)\s*$/i, '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part) => {
      const m = new RegExp(`^${IDENT}`).exec(part);
      return m ? qualified(schema, m[1], m[2]) : part;
    });
}

function qualified(schema: string, first: string | undefined, second: string | undefined): string {
  return second === undefined
    ? `${schema}.${unquote(first ?? '')}`
    : `${unquote(first ?? '')}.${unquote(second)}`;
}

function unquote(name: string): string {
  return name.startsWith('`') ? name.slice(1, -1).replaceAll('``', '`') : name;
}
