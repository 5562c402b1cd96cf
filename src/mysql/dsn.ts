/**
 * DSNs name a server without its password: mysql://user@host:port[/db] or
 * mysql://user@/db?socket=/path. Query parameters carry per-server TLS and
 * password-file settings so two-server commands can use different ones.
 */
import { SalvageError } from '../errors.js';

export const DEFAULT_PORT = 3306;

export const SSL_MODES = ['disabled', 'preferred', 'required', 'verify-ca', 'verify-identity'] as const;
/** The client's TLS policy, with the names and meaning of the mysql client's --ssl-mode. */
export type SslMode = (typeof SSL_MODES)[number];

/** Where a server listens: TCP host and port, or a local socket file. */
export type Endpoint =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'socket'; readonly path: string };

/** A parsed DSN. It never holds a password. */
export interface Dsn {
  /** Undefined when the DSN names no user: the option file's or the login user then applies. */
  readonly user: string | undefined;
  readonly endpoint: Endpoint;
  readonly database: string | undefined;
  readonly sslMode: SslMode | undefined;
  readonly sslCa: string | undefined;
  readonly sslCert: string | undefined;
  readonly sslKey: string | undefined;
  /** A file holding this server's password (overrides --password-file). */
  readonly passwordFile: string | undefined;
}

const QUERY_KEYS = ['socket', 'ssl-mode', 'ssl-ca', 'ssl-cert', 'ssl-key', 'password-file'] as const;

/** Parses a DSN; throws BAD_DSN naming what is wrong, or PASSWORD_ON_COMMAND_LINE. */
export function parseDsn(text: string): Dsn {
  refusePassword(text);
  const bad = (why: string): SalvageError =>
    new SalvageError('BAD_DSN', `Invalid DSN ${quoteForMessage(text)}: ${why}.`);
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/.exec(text.trim());
  if (!match) {
    if (text.includes('#')) throw bad('it contains "#", which a DSN cannot hold');
    throw bad('expected mysql://user@host:port[/db] or mysql://user@/db?socket=/path');
  }
  const [, scheme = '', authority = '', pathPart = '', queryPart = ''] = match;
  if (!['mysql', 'mariadb'].includes(scheme.toLowerCase())) {
    throw bad(`the scheme is "${scheme}", expected mysql://`);
  }

  const at = authority.lastIndexOf('@');
  const userInfo = at >= 0 ? authority.slice(0, at) : undefined;
  const hostPort = at >= 0 ? authority.slice(at + 1) : authority;
  const user = userInfo === undefined || userInfo === '' ? undefined : decode(userInfo, 'user', bad);

  const query = parseQuery(queryPart, bad);
  const database = parseDatabase(pathPart, bad);
  const endpoint = parseEndpoint(hostPort, query.get('socket'), bad);

  const sslMode = query.get('ssl-mode');
  if (sslMode !== undefined && !(SSL_MODES as readonly string[]).includes(sslMode.toLowerCase())) {
    throw bad(`ssl-mode "${sslMode}" is not one of ${SSL_MODES.join(', ')}`);
  }
  return {
    user,
    endpoint,
    database,
    sslMode: sslMode?.toLowerCase() as SslMode | undefined,
    sslCa: query.get('ssl-ca'),
    sslCert: query.get('ssl-cert'),
    sslKey: query.get('ssl-key'),
    passwordFile: query.get('password-file'),
  };
}

/**
 * Runs before anything else so that no later message quotes a DSN holding a
 * password, whatever else is wrong with it.
 */
function refusePassword(text: string): void {
  const afterScheme = text.slice(text.indexOf('://') + 3);
  const authority = afterScheme.split('?')[0] ?? '';
  // The first "@": a password may contain "@" or "/" when the user forgot to %-encode it.
  const userInfo = authority.slice(0, Math.max(0, authority.indexOf('@')));
  if (userInfo.includes(':') || /[?&](password|pwd)=/i.test(text)) {
    throw new SalvageError(
      'PASSWORD_ON_COMMAND_LINE',
      'The DSN contains a password; salvage never takes one there.',
    );
  }
}

function parseEndpoint(
  hostPort: string,
  socket: string | undefined,
  bad: (why: string) => SalvageError,
): Endpoint {
  if (socket !== undefined) {
    if (hostPort !== '' && hostPort !== 'localhost') {
      throw bad(`it names both a host (${hostPort}) and a socket; write mysql://user@/db?socket=${socket}`);
    }
    if (!socket.startsWith('/')) throw bad(`the socket path "${socket}" is not absolute`);
    return { kind: 'socket', path: socket };
  }
  if (hostPort === '') throw bad('it names no host; add @host:port, or ?socket=/path for a local socket');
  let host: string;
  let portText: string | undefined;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0) throw bad('the IPv6 address has no closing "]"');
    host = hostPort.slice(1, close);
    const rest = hostPort.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) throw bad(`unexpected "${rest}" after the IPv6 address`);
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const colon = hostPort.lastIndexOf(':');
    host = colon >= 0 ? hostPort.slice(0, colon) : hostPort;
    portText = colon >= 0 ? hostPort.slice(colon + 1) : undefined;
    if (host.includes(':')) throw bad('an IPv6 host must be written in brackets, e.g. [::1]:3306');
  }
  host = decode(host, 'host', bad);
  if (host === '') throw bad('the host is empty');
  if (!/^[A-Za-z0-9._:%-]+$/.test(host))
    throw bad(`the host "${host}" contains characters a host name cannot`);
  let port = DEFAULT_PORT;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) throw bad(`the port "${portText}" is not a number`);
    port = Number(portText);
    if (port < 1 || port > 65535) throw bad(`the port ${port} is outside 1-65535`);
  }
  return { kind: 'tcp', host, port };
}

function parseDatabase(pathPart: string, bad: (why: string) => SalvageError): string | undefined {
  if (pathPart === '' || pathPart === '/') return undefined;
  const name = decode(pathPart.slice(1), 'database', bad);
  if (name.includes('/')) throw bad(`the database "${name}" contains "/"; a DSN names at most one database`);
  return name;
}

function parseQuery(queryPart: string, bad: (why: string) => SalvageError): Map<string, string> {
  const query = new Map<string, string>();
  if (queryPart.length <= 1) return query;
  for (const pair of queryPart.slice(1).split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decode(eq >= 0 ? pair.slice(0, eq) : pair, 'parameter', bad)
      .toLowerCase()
      .replaceAll('_', '-');
    if (!(QUERY_KEYS as readonly string[]).includes(key)) {
      throw bad(`unknown parameter "${key}" (known: ${QUERY_KEYS.join(', ')})`);
    }
    if (query.has(key)) throw bad(`the parameter "${key}" is given twice`);
    const value = eq >= 0 ? decode(pair.slice(eq + 1), key, bad) : '';
    if (value === '') throw bad(`the parameter "${key}" has no value`);
    query.set(key, value);
  }
  return query;
}

function decode(text: string, what: string, bad: (why: string) => SalvageError): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw bad(`the ${what} has a broken %-escape`);
  }
}

function quoteForMessage(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}...` : text);
}

/** The DSN as text, for messages and reports (it never holds a password). */
export function formatDsn(dsn: Dsn): string {
  const user = dsn.user === undefined ? '' : `${encodeURIComponent(dsn.user)}@`;
  const db = dsn.database === undefined ? '' : `/${encodeURIComponent(dsn.database)}`;
  if (dsn.endpoint.kind === 'socket') return `mysql://${user}${db || '/'}?socket=${dsn.endpoint.path}`;
  const host = dsn.endpoint.host.includes(':') ? `[${dsn.endpoint.host}]` : dsn.endpoint.host;
  return `mysql://${user}${host}:${dsn.endpoint.port}${db}`;
}

/** host:port or the socket path: where a connection goes, for error messages. */
export function formatEndpoint(endpoint: Endpoint): string {
  if (endpoint.kind === 'socket') return `socket ${endpoint.path}`;
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `${host}:${endpoint.port}`;
}
