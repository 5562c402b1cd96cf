/**
 * Finding the installed server binaries a sandbox is made from.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { SalvageError } from '../errors.js';

export type ServerFlavor = 'mariadb' | 'mysql';

/** The server program, its data-directory initializer, and what they are. */
export interface ServerBinaries {
  readonly flavor: ServerFlavor;
  /** As printed by `--version`, e.g. `10.11.18-MariaDB-0+deb12u1`. */
  readonly version: string;
  readonly server: string;
  /**
   * `mariadb-install-db`/`mysql_install_db` for MariaDB; MySQL 8 initializes
   * with `mysqld --initialize-insecure` and needs none.
   */
  readonly installDb: string | undefined;
}

export interface FindBinariesOptions {
  /**
   * Directories to search, separated like PATH. When given, only these are
   * searched (no PATH, no standard locations).
   */
  readonly searchPath?: string;
}

/** Where packages and tarballs put the server when it is not on PATH. */
const STANDARD_DIRS = [
  '/usr/sbin',
  '/usr/bin',
  '/usr/local/sbin',
  '/usr/local/bin',
  '/usr/local/mysql/bin',
  '/usr/local/mysql/scripts',
  '/usr/local/mariadb/bin',
  '/usr/local/mariadb/scripts',
  '/opt/mysql/bin',
  '/opt/mariadb/bin',
  '/opt/homebrew/bin',
  '/opt/homebrew/sbin',
];

const SERVER_NAMES = ['mariadbd', 'mysqld'];
const INSTALL_DB_NAMES = ['mariadb-install-db', 'mysql_install_db'];

const found = new Map<string, ServerBinaries>();

export function findServerBinaries(options: FindBinariesOptions = {}): ServerBinaries {
  // Asking the server its version costs a process start; tests create many sandboxes.
  const key = options.searchPath ?? '';
  const known = found.get(key);
  if (known !== undefined) return known;
  const binaries = searchServerBinaries(options);
  found.set(key, binaries);
  return binaries;
}

function searchServerBinaries(options: FindBinariesOptions): ServerBinaries {
  const dirs =
    options.searchPath !== undefined
      ? splitPath(options.searchPath)
      : [...splitPath(process.env.PATH ?? ''), ...STANDARD_DIRS];
  const server = findExecutable(SERVER_NAMES, dirs);
  if (server === undefined) {
    throw new SalvageError(
      'SERVER_BINARY_MISSING',
      `No MariaDB or MySQL server (mariadbd, mysqld) was found.`,
      {
        context: { searched: dirs.join(delimiter) },
      },
    );
  }
  const { flavor, version } = readServerVersion(server);
  if (flavor === 'mysql') return { flavor, version, server, installDb: undefined };
  // Tarball layouts keep the script next to the server or in ../scripts.
  const near = [
    dirname(server),
    join(dirname(dirname(server)), 'bin'),
    join(dirname(dirname(server)), 'scripts'),
  ];
  const installDb = findExecutable(INSTALL_DB_NAMES, [...near, ...dirs]);
  if (installDb === undefined) {
    throw new SalvageError(
      'SERVER_BINARY_MISSING',
      `Found ${server} but not mariadb-install-db, which creates a new data directory.`,
      { context: { searched: dirs.join(delimiter) } },
    );
  }
  return { flavor, version, server, installDb };
}

function splitPath(path: string): string[] {
  return path.split(delimiter).filter((dir) => dir !== '');
}

function findExecutable(names: readonly string[], dirs: readonly string[]): string | undefined {
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here; keep looking
      }
    }
  }
  return undefined;
}

/** `mariadbd  Ver 10.11.18-MariaDB-0+deb12u1 for debian-linux-gnu` / `mysqld  Ver 8.0.36 for Linux`. */
function readServerVersion(server: string): { flavor: ServerFlavor; version: string } {
  let text: string;
  try {
    text = execFileSync(server, ['--no-defaults', '--version'], { encoding: 'utf8', timeout: 15_000 });
  } catch (error) {
    throw new SalvageError('SERVER_BINARY_MISSING', `${server} does not run: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const version = /\bVer\s+(\S+)/.exec(text)?.[1] ?? text.trim();
  return { flavor: /mariadb/i.test(text) ? 'mariadb' : 'mysql', version };
}
