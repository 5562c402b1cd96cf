/**
 * Connections to the user's servers: a ConnectTarget (DSN + login + TLS)
 * resolved once, and connect() that turns every driver failure into a
 * SalvageError naming the server and never the password.
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import mysql from 'mysql2/promise';
import { SalvageError } from '../errors.js';
import { type CredentialSources, type PasswordSource, resolveCredentials } from './credentials.js';
import { type Dsn, formatDsn, formatEndpoint, type SslMode } from './dsn.js';
import type { Secret } from './secret.js';

export type Connection = mysql.Connection;

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** TLS settings; file paths, read at connect time. */
export interface TlsOptions {
  readonly mode: SslMode;
  readonly ca: string | undefined;
  readonly cert: string | undefined;
  readonly key: string | undefined;
}

/** Everything needed to open a connection. The password is a non-enumerable Secret. */
export interface ConnectTarget {
  readonly dsn: Dsn;
  readonly user: string;
  readonly password: Secret | undefined;
  readonly passwordSource: PasswordSource;
  readonly tls: TlsOptions;
  readonly connectTimeoutMs: number;
}

export interface TargetOptions extends CredentialSources {
  /** Command-wide TLS settings; the DSN's own ssl-* parameters win over them. */
  readonly tls?: Partial<TlsOptions>;
  readonly connectTimeoutMs?: number;
}

/**
 * Resolves the login and TLS for a DSN. The user is the DSN's, else the option
 * file's, else the login name (as the mysql client does).
 */
export function resolveTarget(dsn: Dsn, options: TargetOptions = {}): ConnectTarget {
  const login = resolveCredentials({ ...options, passwordFile: dsn.passwordFile ?? options.passwordFile });
  const tls: TlsOptions = {
    mode: dsn.sslMode ?? options.tls?.mode ?? 'preferred',
    ca: dsn.sslCa ?? options.tls?.ca,
    cert: dsn.sslCert ?? options.tls?.cert,
    key: dsn.sslKey ?? options.tls?.key,
  };
  if (tls.mode === 'verify-ca' || tls.mode === 'verify-identity') {
    if (tls.ca === undefined) {
      throw new SalvageError(
        'BAD_INPUT',
        `ssl-mode ${tls.mode} needs the CA certificate that signed the server's.`,
        {
          hint: 'Give it with --ssl-ca FILE (or ?ssl-ca=FILE in the DSN).',
        },
      );
    }
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new SalvageError('BAD_INPUT', 'A client certificate needs both --ssl-cert and --ssl-key.');
  }
  const target = {
    dsn,
    user: dsn.user ?? login.user ?? userInfo().username,
    passwordSource: login.source,
    tls,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
  } as ConnectTarget;
  Object.defineProperty(target, 'password', { value: login.password, enumerable: false });
  return target;
}

/** "user@host:port" for messages and reports. */
export function describeTarget(target: ConnectTarget): string {
  return formatDsn({ ...target.dsn, user: target.user });
}

/** Per-connection choices; the defaults suit every caller but bulk appliers. */
export interface ConnectOptions {
  /**
   * Let one query carry several `;`-separated statements (default false). Only
   * for SQL salvage builds itself, e.g. batched binlog replay: never for text with user input.
   */
  readonly multipleStatements?: boolean;
}

/**
 * Opens a connection. Numbers that do not fit a double (BIGINT, DECIMAL) and
 * dates come back as strings so that no value is rounded or shifted by a time zone.
 */
export async function connect(target: ConnectTarget, options: ConnectOptions = {}): Promise<Connection> {
  const { tls } = target;
  const ssl = tlsConfig(target);
  try {
    return await mysql.createConnection(connectionOptions(target, ssl, options));
  } catch (error) {
    // "preferred" means TLS when the server offers it, plain otherwise (the mysql client's default).
    if (tls.mode === 'preferred' && ssl && driverCode(error) === 'HANDSHAKE_NO_SSL_SUPPORT') {
      try {
        return await mysql.createConnection(connectionOptions(target, undefined, options));
      } catch (plainError) {
        throw connectError(target, plainError);
      }
    }
    throw connectError(target, error);
  }
}

/** Runs fn with a connection and always closes it. */
export async function withConnection<T>(
  target: ConnectTarget,
  fn: (conn: Connection) => Promise<T>,
): Promise<T> {
  const conn = await connect(target);
  try {
    return await fn(conn);
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

function connectionOptions(
  target: ConnectTarget,
  ssl: mysql.SslOptions | undefined,
  options: ConnectOptions,
): mysql.ConnectionOptions {
  const { endpoint } = target.dsn;
  return {
    ...(endpoint.kind === 'tcp'
      ? { host: endpoint.host, port: endpoint.port }
      : { socketPath: endpoint.path }),
    user: target.user,
    password: target.password?.reveal(),
    database: target.dsn.database,
    ssl,
    connectTimeout: target.connectTimeoutMs,
    charset: 'utf8mb4_general_ci',
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    multipleStatements: options.multipleStatements ?? false,
  };
}

function tlsConfig(target: ConnectTarget): mysql.SslOptions | undefined {
  const { tls } = target;
  if (tls.mode === 'disabled') return undefined;
  // Over a local socket TLS adds nothing; the mysql client skips it too unless required.
  if (tls.mode === 'preferred' && target.dsn.endpoint.kind === 'socket') return undefined;
  const verify = tls.mode === 'verify-ca' || tls.mode === 'verify-identity';
  return {
    ca: tls.ca === undefined ? undefined : readTlsFile(tls.ca, 'CA certificate'),
    cert: tls.cert === undefined ? undefined : readTlsFile(tls.cert, 'client certificate'),
    key: tls.key === undefined ? undefined : readTlsFile(tls.key, 'client key'),
    rejectUnauthorized: verify,
    verifyIdentity: tls.mode === 'verify-identity',
  } as mysql.SslOptions;
}

function readTlsFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new SalvageError(
      'FILE_NOT_FOUND',
      `Cannot read the ${what} ${path} (${driverCode(error) ?? 'error'}).`,
      {
        hint: 'Check the path given to --ssl-ca, --ssl-cert or --ssl-key.',
      },
    );
  }
}

function driverCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EPIPE',
  'ENOENT',
  'EACCES',
  'PROTOCOL_CONNECTION_LOST',
]);

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (no server listening there)',
  ETIMEDOUT: 'timed out',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name could not be resolved now (DNS)',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  ENOENT: 'the socket file does not exist',
  EACCES: 'permission denied on the socket file',
};

/** Maps a driver error raised while connecting to a SalvageError; the message never holds the password. */
function connectError(target: ConnectTarget, error: unknown): SalvageError {
  if (error instanceof SalvageError) return error;
  const where = formatEndpoint(target.dsn.endpoint);
  const code = driverCode(error) ?? '';
  const context = { server: describeTarget(target), driverCode: code };
  if (
    code === 'ER_ACCESS_DENIED_ERROR' ||
    code === 'ER_HOST_NOT_PRIVILEGED' ||
    code === 'ER_DBACCESS_DENIED_ERROR'
  ) {
    const using =
      target.password === undefined
        ? 'without a password'
        : `with the password from ${passwordOrigin(target)}`;
    // No cause: the driver's error object is not ours to vouch for as password-free.
    return new SalvageError(
      'ACCESS_DENIED',
      `Access denied to ${where} for user ${target.user} ${using}: ${serverText(error)}`,
      {
        context,
      },
    );
  }
  if (code === 'ER_BAD_DB_ERROR') {
    return new SalvageError(
      'SERVER_ERROR',
      `The database ${target.dsn.database} does not exist on ${where}.`,
      {
        hint: 'Check the database name in the DSN, or leave it out.',
        context,
      },
    );
  }
  if (code === 'HANDSHAKE_NO_SSL_SUPPORT') {
    return new SalvageError(
      'CONNECT_FAILED',
      `The server at ${where} does not offer TLS, and ssl-mode is ${target.tls.mode}.`,
      {
        hint: 'Enable TLS on the server, or use --ssl-mode preferred (or disabled) if a plain connection is acceptable.',
        context,
      },
    );
  }
  if (NETWORK_CODES.has(code)) {
    const reason = NETWORK_REASONS[code] ?? code;
    return new SalvageError('CONNECT_FAILED', `Cannot connect to ${where}: ${reason}.`, {
      context,
      cause: error,
    });
  }
  if (code.startsWith('ERR_TLS') || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET/.test(code)) {
    return new SalvageError('CONNECT_FAILED', `TLS verification of ${where} failed (${code}).`, {
      hint: 'Check --ssl-ca (the CA that signed the server certificate) and, for verify-identity, the host name.',
      context,
    });
  }
  return new SalvageError('SERVER_ERROR', `Connecting to ${where} failed: ${serverText(error)}`, {
    context,
    cause: error,
  });
}

function passwordOrigin(target: ConnectTarget): string {
  if (target.passwordSource === 'password-file') return 'the password file';
  if (target.passwordSource === 'option-file') return '~/.my.cnf';
  return target.passwordSource;
}

function serverText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s+$/, '');
}
