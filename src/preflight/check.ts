/** The result of one readiness check, and how to write the fix for a server setting. */
import type { Flavor, ServerVersion } from '../mysql/index.js';
import { versionAtLeast } from '../mysql/index.js';

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface Check {
  /** Stable name, e.g. "binlog.format", "privileges.read-binlog". */
  readonly id: string;
  readonly status: CheckStatus;
  /** What was found, in one sentence. */
  readonly message: string;
  /** The exact statement or my.cnf line that makes the check pass; null when it passes. */
  readonly fix: string | null;
}

export function pass(id: string, message: string): Check {
  return { id, status: 'pass', message, fix: null };
}

export function warn(id: string, message: string, fix: string): Check {
  return { id, status: 'warn', message, fix };
}

export function fail(id: string, message: string, fix: string): Check {
  return { id, status: 'fail', message, fix };
}

/**
 * The statement that changes a dynamic variable and keeps it after a restart:
 * SET PERSIST on MySQL 8, else SET GLOBAL plus the my.cnf line.
 */
export function setVariable(flavor: Flavor, version: ServerVersion, name: string, value: string): string {
  const literal = /^\d+$/.test(value) || value === 'ON' || value === 'OFF' ? value : `'${value}'`;
  if (flavor === 'mysql' && versionAtLeast(version, 8)) return `SET PERSIST ${name} = ${literal};`;
  return `SET GLOBAL ${name} = ${literal}; and in my.cnf [mysqld]: ${name} = ${value}`;
}
