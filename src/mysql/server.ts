/**
 * What a server is: flavor, version, binary log settings, GTID state, and
 * the identity that tells two servers apart (used to refuse writing a
 * restore into the source).
 */
import type { Connection } from './connect.js';
import { queryRows, serverErrno } from './query.js';

export type Flavor = 'mysql' | 'mariadb';

export interface ServerVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** @@version as the server reports it, e.g. "10.11.6-MariaDB-0+deb12u1-log". */
  readonly text: string;
}

/**
 * Which server this is. MySQL has server_uuid; MariaDB has none, so
 * server_id + hostname + port + datadir stand in for it.
 */
export interface ServerIdentity {
  readonly flavor: Flavor;
  readonly version: string;
  readonly serverId: number;
  readonly serverUuid: string | undefined;
  readonly hostname: string;
  readonly port: number;
  readonly datadir: string;
}

export interface BinlogSettings {
  readonly enabled: boolean;
  /** ROW, STATEMENT or MIXED. */
  readonly format: string | undefined;
  /** FULL, MINIMAL or NOBLOB. */
  readonly rowImage: string | undefined;
  /** MINIMAL or FULL; undefined on servers without binlog_row_metadata (MySQL < 8.0.1, MariaDB < 10.5). */
  readonly rowMetadata: string | undefined;
  /** The variable that logs statement text with row events, and its value. */
  readonly statementText: { readonly variable: string; readonly enabled: boolean } | undefined;
  /** NONE or CRC32. */
  readonly checksum: string | undefined;
  /** Seconds binary logs are kept before automatic purge; 0 = never purged automatically. */
  readonly retentionSeconds: number;
  /** MySQL's binlog_row_value_options (PARTIAL_JSON logs JSON updates as diffs). */
  readonly rowValueOptions: string | undefined;
  readonly basename: string | undefined;
}

export type GtidState =
  | {
      readonly flavor: 'mariadb';
      /** gtid_current_pos: the last GTID applied or logged per domain. */
      readonly currentPos: string;
      readonly binlogPos: string;
      readonly strictMode: boolean;
      readonly domainId: number;
    }
  | {
      readonly flavor: 'mysql';
      /** OFF, OFF_PERMISSIVE, ON_PERMISSIVE or ON. */
      readonly mode: string;
      readonly executed: string;
      readonly enforceConsistency: string | undefined;
    };

/** An exact place in the binary log. */
export interface BinlogCoordinates {
  readonly file: string;
  readonly position: number;
}

export interface BinaryLogFile {
  readonly name: string;
  readonly size: number;
}

export interface ServerDescription {
  readonly identity: ServerIdentity;
  readonly flavor: Flavor;
  readonly version: ServerVersion;
  readonly binlog: BinlogSettings;
  readonly gtid: GtidState;
  /** The current end of the binary log; undefined when logging is off. */
  readonly position: BinlogCoordinates | undefined;
  /** The binary logs on the server; undefined when the user may not list them. */
  readonly binaryLogs: readonly BinaryLogFile[] | undefined;
  /** The raw global variables read, by lower-case name. */
  readonly variables: ReadonlyMap<string, string>;
}

/** What a server's identity is read from (readServerIdentity). */
const IDENTITY_VARIABLES = [
  'version',
  'version_comment',
  'hostname',
  'port',
  'datadir',
  'server_id',
  'server_uuid',
];

const VARIABLES = [
  ...IDENTITY_VARIABLES,
  'log_bin',
  'log_bin_basename',
  'binlog_format',
  'binlog_row_image',
  'binlog_row_metadata',
  'binlog_row_value_options',
  'binlog_annotate_row_events',
  'binlog_rows_query_log_events',
  'binlog_checksum',
  'expire_logs_days',
  'binlog_expire_logs_seconds',
  'binlog_expire_logs_auto_purge',
  'gtid_mode',
  'enforce_gtid_consistency',
  'gtid_executed',
  'gtid_strict_mode',
  'gtid_current_pos',
  'gtid_binlog_pos',
  'gtid_domain_id',
];

/** Reads everything salvage needs to know about a server, in a few queries. */
export async function describeServer(conn: Connection): Promise<ServerDescription> {
  const variables = await readVariables(conn, VARIABLES);
  const identity = identityFrom(variables);
  const version = parseVersion(variables.get('version') ?? '');
  const binlog = binlogSettingsFrom(variables);
  return {
    identity,
    flavor: identity.flavor,
    version,
    binlog,
    gtid: gtidStateFrom(identity.flavor, variables),
    position: binlog.enabled ? await readBinlogPosition(conn, identity.flavor, version) : undefined,
    binaryLogs: binlog.enabled ? await listBinaryLogs(conn) : [],
    variables,
  };
}

/** Only the identity: cheap enough to check before every write. */
export async function readServerIdentity(conn: Connection): Promise<ServerIdentity> {
  return identityFrom(await readVariables(conn, IDENTITY_VARIABLES));
}

/**
 * True when both identities are the same server. Every location field must
 * match, and the server_uuid too when both have one: a clone that copied
 * auto.cnf shares the uuid but not its port or data directory. Names are
 * compared as the servers report them, so two DSNs for one server (127.0.0.1
 * and localhost, a proxy) still match.
 */
export function sameServer(a: ServerIdentity, b: ServerIdentity): boolean {
  if (a.serverUuid !== undefined && b.serverUuid !== undefined && a.serverUuid !== b.serverUuid) return false;
  return (
    a.flavor === b.flavor &&
    a.serverId === b.serverId &&
    a.hostname === b.hostname &&
    a.port === b.port &&
    normalizeDir(a.datadir) === normalizeDir(b.datadir)
  );
}

function normalizeDir(dir: string): string {
  return dir.replace(/\/+$/, '');
}

/** Global variables by lower-case name; names the server does not have are absent. */
export async function readVariables(
  conn: Connection,
  names: readonly string[],
): Promise<Map<string, string>> {
  const rows = await queryRows(conn, 'SHOW GLOBAL VARIABLES WHERE Variable_name IN (?)', [names]);
  const variables = new Map<string, string>();
  for (const row of rows) variables.set(String(row.Variable_name).toLowerCase(), String(row.Value ?? ''));
  return variables;
}

export function detectFlavor(version: string, versionComment: string): Flavor {
  return /mariadb/i.test(version) || /mariadb/i.test(versionComment) ? 'mariadb' : 'mysql';
}

export function parseVersion(text: string): ServerVersion {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(text);
  return {
    major: Number(match?.[1] ?? 0),
    minor: Number(match?.[2] ?? 0),
    patch: Number(match?.[3] ?? 0),
    text,
  };
}

/** True when the version is at least major.minor.patch. */
export function versionAtLeast(version: ServerVersion, major: number, minor = 0, patch = 0): boolean {
  if (version.major !== major) return version.major > major;
  if (version.minor !== minor) return version.minor > minor;
  return version.patch >= patch;
}

function identityFrom(variables: ReadonlyMap<string, string>): ServerIdentity {
  const version = variables.get('version') ?? '';
  const flavor = detectFlavor(version, variables.get('version_comment') ?? '');
  return {
    flavor,
    version,
    serverId: Number(variables.get('server_id') ?? 0),
    serverUuid: flavor === 'mysql' ? variables.get('server_uuid') || undefined : undefined,
    hostname: variables.get('hostname') ?? '',
    port: Number(variables.get('port') ?? 0),
    datadir: variables.get('datadir') ?? '',
  };
}

function isOn(value: string | undefined): boolean {
  return value !== undefined && ['on', '1', 'yes', 'true'].includes(value.toLowerCase());
}

function upper(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value.toUpperCase();
}

function binlogSettingsFrom(variables: ReadonlyMap<string, string>): BinlogSettings {
  const statementVariable = ['binlog_annotate_row_events', 'binlog_rows_query_log_events'].find((name) =>
    variables.has(name),
  );
  return {
    enabled: isOn(variables.get('log_bin')),
    format: upper(variables.get('binlog_format')),
    rowImage: upper(variables.get('binlog_row_image')),
    rowMetadata: upper(variables.get('binlog_row_metadata')),
    statementText:
      statementVariable === undefined
        ? undefined
        : { variable: statementVariable, enabled: isOn(variables.get(statementVariable)) },
    checksum: upper(variables.get('binlog_checksum')),
    retentionSeconds: retentionSeconds(variables),
    rowValueOptions: upper(variables.get('binlog_row_value_options')),
    basename: variables.get('log_bin_basename') || undefined,
  };
}

/**
 * binlog_expire_logs_seconds wins when non-zero, else expire_logs_days (a
 * fraction of days on MariaDB); MySQL 8.0.29+ can switch purging off entirely.
 */
function retentionSeconds(variables: ReadonlyMap<string, string>): number {
  const autoPurge = variables.get('binlog_expire_logs_auto_purge');
  if (autoPurge !== undefined && !isOn(autoPurge)) return 0;
  const seconds = Number(variables.get('binlog_expire_logs_seconds') ?? 0);
  if (seconds > 0) return seconds;
  return Math.round(Number(variables.get('expire_logs_days') ?? 0) * 86_400);
}

function gtidStateFrom(flavor: Flavor, variables: ReadonlyMap<string, string>): GtidState {
  if (flavor === 'mariadb') {
    return {
      flavor,
      currentPos: variables.get('gtid_current_pos') ?? '',
      binlogPos: variables.get('gtid_binlog_pos') ?? '',
      strictMode: isOn(variables.get('gtid_strict_mode')),
      domainId: Number(variables.get('gtid_domain_id') ?? 0),
    };
  }
  return {
    flavor,
    mode: upper(variables.get('gtid_mode')) ?? 'OFF',
    // MySQL prints long GTID sets over several lines.
    executed: (variables.get('gtid_executed') ?? '').replace(/\s+/g, ''),
    enforceConsistency: upper(variables.get('enforce_gtid_consistency')),
  };
}

/** MySQL 8.2 renamed SHOW MASTER STATUS (and 8.4 removed the old name); MariaDB keeps it. */
async function readBinlogPosition(
  conn: Connection,
  flavor: Flavor,
  version: ServerVersion,
): Promise<BinlogCoordinates | undefined> {
  const sql =
    flavor === 'mysql' && versionAtLeast(version, 8, 2) ? 'SHOW BINARY LOG STATUS' : 'SHOW MASTER STATUS';
  try {
    const [row] = await queryRows(conn, sql);
    if (!row) return undefined;
    return { file: String(row.File), position: Number(row.Position) };
  } catch (error) {
    if (serverErrno(error) === ER_SPECIFIC_ACCESS_DENIED) return undefined;
    throw error;
  }
}

const ER_SPECIFIC_ACCESS_DENIED = 1227;
const ER_NO_BINARY_LOGGING = 1381;

async function listBinaryLogs(conn: Connection): Promise<BinaryLogFile[] | undefined> {
  try {
    const rows = await queryRows(conn, 'SHOW BINARY LOGS');
    return rows.map((row) => ({ name: String(row.Log_name), size: Number(row.File_size) }));
  } catch (error) {
    const errno = serverErrno(error);
    if (errno === ER_NO_BINARY_LOGGING) return [];
    if (errno === ER_SPECIFIC_ACCESS_DENIED) return undefined;
    throw error;
  }
}
