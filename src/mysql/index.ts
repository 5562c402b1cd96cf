/**
 * Connections to MySQL/MariaDB servers (DSN, credentials, TLS), server
 * introspection (flavor, version, binlog settings, GTID state, identity,
 * table shapes, grants) and SQL quoting.
 */
export { type ColumnShape, describeAllTables, describeTable, type TableShape } from './columns.js';
export {
  type Connection,
  type ConnectOptions,
  type ConnectTarget,
  connect,
  DEFAULT_CONNECT_TIMEOUT_MS,
  describeTarget,
  resolveTarget,
  type TargetOptions,
  type TlsOptions,
  withConnection,
} from './connect.js';
export {
  type CredentialSources,
  type Credentials,
  type PasswordSource,
  resolveCredentials,
} from './credentials.js';
export { GEOMETRY_DATA_TYPES, INTEGER_DATA_TYPES } from './data-types.js';
export {
  type ConnectionInternals,
  connectionInternals,
  type IncomingPacket,
  type QueuedCommand,
} from './driver-internals.js';
export {
  DEFAULT_PORT,
  type Dsn,
  type Endpoint,
  formatDsn,
  formatEndpoint,
  parseDsn,
  SSL_MODES,
  type SslMode,
} from './dsn.js';
export { type Grants, hasGlobalPrivilege, parseGrants, readGrants } from './grants.js';
export { readClientOptions } from './option-file.js';
export { type QueryOutcome, QueryPipeline } from './pipeline.js';
export { queryRawRows, queryRows, type RawRow, type Row, serverErrno } from './query.js';
export { quoteIdentifier, quoteTableName, quoteValue, type SqlValue } from './quote.js';
export { Secret } from './secret.js';
export {
  type BinaryLogFile,
  type BinlogCoordinates,
  type BinlogSettings,
  describeServer,
  detectFlavor,
  type Flavor,
  type GtidState,
  parseVersion,
  readServerIdentity,
  readVariables,
  type ServerDescription,
  type ServerIdentity,
  type ServerVersion,
  sameServer,
  versionAtLeast,
} from './server.js';
