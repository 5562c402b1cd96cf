/**
 * The current account's privileges, parsed from SHOW GRANTS. Only the
 * privilege names and where they apply are kept: MariaDB prints the password
 * hash in the same lines, and it must go no further.
 */
import type { Connection } from './connect.js';
import { queryRows } from './query.js';

export interface Grants {
  /** CURRENT_USER() as 'user'@'host', ready for a GRANT statement. */
  readonly account: string;
  /** Privileges ON *.*; "ALL PRIVILEGES" stands for every static privilege. */
  readonly global: ReadonlySet<string>;
  /** Privileges ON `db`.*, by database name. */
  readonly databases: ReadonlyMap<string, ReadonlySet<string>>;
  /** Roles granted to the account. */
  readonly roles: readonly string[];
}

export async function readGrants(conn: Connection): Promise<Grants> {
  const [who] = await queryRows(conn, 'SELECT CURRENT_USER() AS account');
  const rows = await queryRows(conn, 'SHOW GRANTS');
  const lines = rows.map((row) => String(Object.values(row)[0] ?? ''));
  return { account: formatAccount(String(who?.account ?? '')), ...parseGrants(lines) };
}

/** 'user'@'host' from CURRENT_USER()'s user@host (the user name may itself hold "@"). */
function formatAccount(currentUser: string): string {
  const at = currentUser.lastIndexOf('@');
  const quote = (text: string): string => `'${text.replaceAll("'", "''")}'`;
  if (at < 0) return quote(currentUser);
  return `${quote(currentUser.slice(0, at))}@${quote(currentUser.slice(at + 1))}`;
}

/** Parses SHOW GRANTS lines (MySQL and MariaDB forms). */
export function parseGrants(lines: readonly string[]): Omit<Grants, 'account'> {
  const global = new Set<string>();
  const databases = new Map<string, Set<string>>();
  const roles: string[] = [];
  for (const line of lines) {
    const grant = /^GRANT\s+(.*?)\s+ON\s+(.*?)\s+TO\s+/is.exec(line);
    if (!grant) {
      const role = /^GRANT\s+(.*?)\s+TO\s+/is.exec(line);
      if (role) roles.push(...splitTopLevel(role[1]!).map(unquoteName));
      continue;
    }
    const privileges = splitTopLevel(grant[1]!).map(privilegeName);
    const object = grant[2]!.trim();
    if (object === '*.*') {
      for (const name of privileges) global.add(name);
      continue;
    }
    const database = /^(`(?:[^`]|``)+`|[^.`]+)\.\*$/.exec(object);
    if (database) {
      const name = unquoteName(database[1]!);
      const set = databases.get(name) ?? new Set<string>();
      for (const privilege of privileges) set.add(privilege);
      databases.set(name, set);
    }
  }
  return { global, databases, roles };
}

/** True when the account holds one of the names ON *.* (ALL PRIVILEGES counts for every static privilege). */
export function hasGlobalPrivilege(grants: Pick<Grants, 'global'>, anyOf: readonly string[]): boolean {
  return anyOf.some((name) => grants.global.has(name)) || grants.global.has('ALL PRIVILEGES');
}

/** Splits "SELECT (`a`, `b`), INSERT" at commas outside parentheses and quotes. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let current = '';
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === '`' || ch === "'" || ch === '"') {
      quote = ch;
    } else if (ch === '(') {
      depth++;
    } else if (ch === ')') {
      depth--;
    } else if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
      continue;
    }
    current += ch;
  }
  if (current.trim() !== '') parts.push(current.trim());
  return parts;
}

/** "select (`a`)" → "SELECT"; "ALL" → "ALL PRIVILEGES"; MySQL dynamic names keep their underscores. */
function privilegeName(text: string): string {
  const name = text
    .replace(/\(.*\)/s, '')
    .trim()
    .replace(/\s+/g, ' ')
    .toUpperCase();
  return name === 'ALL' ? 'ALL PRIVILEGES' : name;
}

function unquoteName(text: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith('`') && trimmed.endsWith('`')) return trimmed.slice(1, -1).replaceAll('``', '`');
  return trimmed;
}
