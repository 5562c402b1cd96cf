/**
 * The session context a statement-logged event ran in, as SQL the target
 * session runs before it: what mariadb-binlog prints before a QUERY event
 * (`Query_log_event::print_query_header`), kept only when it changes.
 */
import type { BinlogEvent, QueryEvent } from '../binlog/index.js';
import { SalvageError } from '../errors.js';
import { type Connection, queryRows, quoteIdentifier, quoteValue } from '../mysql/index.js';

// Bits of Q_FLAGS2_CODE (sql_priv.h: OPTION_*).
const OPTION_AUTO_IS_NULL = 1 << 14;
const OPTION_NO_FOREIGN_KEY_CHECKS = 1 << 26;
const OPTION_RELAXED_UNIQUE_CHECKS = 1 << 27;

const DATABASE_STATEMENT = /^\s*(CREATE|DROP|ALTER)\s+(DATABASE|SCHEMA)\s/i;

/** What the target session was last told, so unchanged settings are not sent again. */
export class SessionContext {
  private readonly sent = new Map<string, string>();

  constructor(private readonly collations: Collations = new Map()) {}

  /** Statements that put the session in `event`'s context (before running its text). */
  forQuery(event: QueryEvent): string[] {
    const status = event.status;
    const settings: [string, string][] = [];
    const micros = status.microseconds ?? 0;
    settings.push([
      'timestamp',
      `${event.header.timestamp}${micros ? `.${String(micros).padStart(6, '0')}` : ''}`,
    ]);
    settings.push(['pseudo_thread_id', String(event.threadId)]);
    if (status.flags2 !== undefined) {
      const f = status.flags2;
      settings.push(['foreign_key_checks', f & OPTION_NO_FOREIGN_KEY_CHECKS ? '0' : '1']);
      settings.push(['sql_auto_is_null', f & OPTION_AUTO_IS_NULL ? '1' : '0']);
      settings.push(['unique_checks', f & OPTION_RELAXED_UNIQUE_CHECKS ? '0' : '1']);
    }
    if (status.sqlMode !== undefined) settings.push(['sql_mode', status.sqlMode.toString()]);
    if (status.autoIncrement) {
      settings.push(['auto_increment_increment', String(status.autoIncrement.increment)]);
      settings.push(['auto_increment_offset', String(status.autoIncrement.offset)]);
    }
    if (status.charset) {
      // A number names only a character set's default collation here; the set's name fits any.
      const client = this.collations.get(status.charset.client);
      settings.push([
        'character_set_client',
        client ? quoteValue(client.charset) : String(status.charset.client),
      ]);
      settings.push(['collation_connection', String(status.charset.connection)]);
      settings.push(['collation_server', String(status.charset.server)]);
    }
    if (status.timeZone !== undefined) settings.push(['time_zone', quoteValue(status.timeZone)]);
    if (status.lcTimeNames !== undefined) settings.push(['lc_time_names', String(status.lcTimeNames)]);
    if (status.charsetDatabase !== undefined)
      settings.push(['collation_database', String(status.charsetDatabase)]);
    const statements: string[] = [];
    // The server logs CREATE/DROP DATABASE with the database itself as the default one,
    // which need not exist (yet): the statement names it, so the session's database stays.
    const onDatabase = DATABASE_STATEMENT.test(event.query);
    if (!onDatabase && event.schema !== '' && this.sent.get('schema') !== event.schema) {
      statements.push(`USE ${quoteIdentifier(event.schema)}`);
      this.sent.set('schema', event.schema);
    }
    // Dropping the session's database leaves it with none.
    if (onDatabase && /^\s*DROP\s/i.test(event.query)) this.sent.delete('schema');
    const changed = settings.filter(([name, value]) => this.sent.get(name) !== value);
    if (changed.length > 0) {
      statements.push(`SET ${changed.map(([name, value]) => `@@session.${name}=${value}`).join(', ')}`);
      for (const [name, value] of changed) this.sent.set(name, value);
    }
    return statements;
  }

  /** The settings a MariaDB GTID event gives the next transaction, so the target logs the same GTID. */
  forMariadbGtid(domainId: number, serverId: number, sequence: bigint): string {
    const settings: [string, string][] = [
      ['gtid_domain_id', String(domainId)],
      ['server_id', String(serverId)],
      ['gtid_seq_no', sequence.toString()],
    ];
    // gtid_seq_no applies to one transaction only, so it is always sent.
    const changed = settings.filter(
      ([name, value]) => name === 'gtid_seq_no' || this.sent.get(name) !== value,
    );
    for (const [name, value] of changed) this.sent.set(name, value);
    return `SET ${changed.map(([name, value]) => `@@session.${name}=${value}`).join(', ')}`;
  }
}

/** The target's collations by id, for text the binlog tags with a collation id only. */
export type Collations = ReadonlyMap<number, { readonly name: string; readonly charset: string }>;

/** Reads the target server's collation table. */
export async function readCollations(conn: Connection): Promise<Collations> {
  const rows = await queryRows(
    conn,
    'SELECT ID AS id, COLLATION_NAME AS name, CHARACTER_SET_NAME AS charset FROM information_schema.COLLATIONS',
  );
  return new Map(rows.map((r) => [Number(r.id), { name: String(r.name), charset: String(r.charset) }]));
}

/** INTVAR, RAND and USER_VAR events: the statement that sets what the next query reads. */
export function statementContext(event: BinlogEvent, collations: Collations): string | undefined {
  switch (event.kind) {
    case 'intvar':
      if (event.variable === 'INVALID') return undefined;
      return `SET ${event.variable}=${event.value.toString()}`;
    case 'rand':
      return `SET @@RAND_SEED1=${event.seed1.toString()}, @@RAND_SEED2=${event.seed2.toString()}`;
    case 'user-var':
      return `SET @${quoteIdentifier(event.name)} := ${userVarValue(event, collations)}`;
    default:
      return undefined;
  }
}

function userVarValue(event: Extract<BinlogEvent, { kind: 'user-var' }>, collations: Collations): string {
  const value = event.value;
  if (value === undefined) return 'NULL';
  switch (value.type) {
    case 0: {
      // STRING_RESULT: the bytes in their collation, which the event gives only as an id.
      const hex = `X'${value.bytes.toString('hex')}'`;
      if (value.charset === 63) return `_binary ${hex}`;
      const collation = collations.get(value.charset);
      if (collation) return `_${collation.charset} ${hex} COLLATE ${quoteIdentifier(collation.name)}`;
      break;
    }
    case 1: // REAL_RESULT
      return String(value.bytes.readDoubleLE(0));
    case 2: // INT_RESULT
      return (value.unsigned ? value.bytes.readBigUInt64LE(0) : value.bytes.readBigInt64LE(0)).toString();
  }
  throw new SalvageError(
    'BINLOG_UNSUPPORTED',
    `user variable @${event.name} at ${event.header.file}:${event.header.position} has a type (${value.type}) replay cannot reproduce exactly`,
    { context: { file: event.header.file, position: event.header.position } },
  );
}
