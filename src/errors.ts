/**
 * Every error salvage reports is a SalvageError with a code from this table.
 * The code fixes the exit status; the hint tells the user what to do next.
 */

/** Exit statuses of the command-line contract. */
export const ExitStatus = {
  ok: 0,
  checkFailed: 1,
  usage: 2,
  server: 3,
} as const;
export type ExitStatus = (typeof ExitStatus)[keyof typeof ExitStatus];

interface ErrorSpec {
  readonly exit: ExitStatus;
  readonly hint: string;
}

/** The one table of error codes: exit status and default hint for each. */
export const ErrorCodes = {
  USAGE: { exit: 2, hint: 'Run the command with --help to see its options.' },
  BAD_DSN: {
    exit: 2,
    hint: 'Write the DSN as mysql://user@host:port[/db] or mysql://user@/db?socket=/path/to/socket.',
  },
  PASSWORD_ON_COMMAND_LINE: {
    exit: 2,
    hint: 'Put the password in a file (--password-file), SALVAGE_PASSWORD, MYSQL_PWD or ~/.my.cnf [client].',
  },
  PASSWORD_FILE: { exit: 2, hint: 'Check the path given to --password-file and that it is readable.' },
  BAD_INPUT: { exit: 2, hint: 'Check the value and try again.' },
  BAD_TIME: {
    exit: 2,
    hint: 'Give a time as YYYY-MM-DD HH:MM:SS[.ffffff] with --tz ZONE, or as ISO 8601 with an offset.',
  },
  AMBIGUOUS_TIME: {
    exit: 2,
    hint: 'That local time happens twice (DST ends): give it with an explicit offset, e.g. 2024-11-03T01:30:00-04:00.',
  },
  NONEXISTENT_TIME: {
    exit: 2,
    hint: 'That local time never happens (DST starts): give a time with an explicit offset.',
  },
  FILE_NOT_FOUND: { exit: 2, hint: 'Check the path.' },
  NOT_A_BINLOG: {
    exit: 2,
    hint: 'Give a MySQL or MariaDB binary log file (it starts with the bytes fe 62 69 6e).',
  },
  BINLOG_CORRUPT: {
    exit: 2,
    hint: 'The binary log is damaged at that position; use a copy from a replica or the archive.',
  },
  BINLOG_CHECKSUM: {
    exit: 2,
    hint: 'The event does not match its CRC32: the file is damaged. Use --no-verify to read it anyway.',
  },
  BINLOG_TRUNCATED: {
    exit: 2,
    hint: 'The file ends inside an event: it is still being written or was cut. Read it again later or from the server.',
  },
  BINLOG_GAP: { exit: 2, hint: 'Supply the missing binary log file, or read from the server with --source.' },
  BINLOG_UNKNOWN_TABLE: {
    exit: 2,
    hint: 'A rows event refers to a table map that was never read: start reading at a transaction boundary.',
  },
  BINLOG_UNSUPPORTED: {
    exit: 2,
    hint: 'salvage cannot decode this event exactly, so it refuses to use it for recovery. Report the server version.',
  },
  BINLOG_NOT_ON_SERVER: {
    exit: 2,
    hint: 'List the binary logs the server still has with SHOW BINARY LOGS; older ones were purged: read them from the backup archive.',
  },
  BINLOG_DISABLED: {
    exit: 3,
    hint: 'Start the server with binary logging (log_bin, binlog_format=ROW); without it there is nothing to read or replay.',
  },
  GTID_NOT_FOUND: {
    exit: 2,
    hint: 'Check the GTID with `salvage binlog timeline` and the binlogs covering it.',
  },
  SANDBOX_NOT_FOUND: { exit: 2, hint: 'List the sandboxes with `salvage sandbox list`.' },
  SANDBOX_EXISTS: {
    exit: 2,
    hint: 'Choose another --name, or destroy the old one with `salvage sandbox destroy`.',
  },
  DATADIR_EXISTS: { exit: 2, hint: 'Choose another data directory or remove the existing one.' },
  PORT_IN_USE: { exit: 3, hint: 'Choose another port, or omit --port to let salvage pick a free one.' },
  SERVER_BINARY_MISSING: {
    exit: 3,
    hint: 'Install the server: apt-get install mariadb-server mariadb-backup mariadb-client (or run npm run bootstrap).',
  },
  SERVER_START_FAILED: { exit: 3, hint: 'Read the server log shown above.' },
  CONNECT_FAILED: { exit: 3, hint: 'Check host, port and that the server is running.' },
  ACCESS_DENIED: {
    exit: 3,
    hint: 'Check the user and the password source (--password-file, SALVAGE_PASSWORD, MYSQL_PWD, ~/.my.cnf).',
  },
  SERVER_ERROR: { exit: 3, hint: 'See the server message above.' },
  TOOL_FAILED: { exit: 3, hint: 'See the tool output above.' },
  CHECK_FAILED: { exit: 1, hint: 'See the findings above.' },
  REFUSED_SOURCE: {
    exit: 2,
    hint: 'The target is the source server itself; name a different server or use --into sandbox.',
  },
  UNDO_NOT_EXACT: {
    exit: 2,
    hint: 'salvage writes no compensating SQL it cannot make exact; restore the affected tables from a backup instead.',
  },
  UNDO_DDL: {
    exit: 2,
    hint: 'The binlog holds no before-image of a schema change: follow the restore plan shown above.',
  },
  UNDO_CONFLICT: {
    exit: 1,
    hint: 'Rows changed since the bad transaction: choose --on-conflict skip, abort or force.',
  },
  UNDO_VERIFY_FAILED: {
    exit: 1,
    hint: 'The undo was rolled back and nothing changed; see which rows differ above.',
  },
  REPOSITORY_NOT_FOUND: {
    exit: 2,
    hint: 'Check --repo (file:///absolute/path); `salvage backup create` makes the repository on first use.',
  },
  REPOSITORY_LOCKED: {
    exit: 3,
    hint: 'Another backup is writing to this repository; wait for it, or remove the lock file named above if its process is gone.',
  },
  BACKUP_NOT_FOUND: { exit: 2, hint: 'List the complete backups with `salvage backup list --repo URL`.' },
  BACKUP_CHECKSUM: {
    exit: 1,
    hint: 'The backup file is damaged: do not restore from it; use another backup (salvage backup list).',
  },
  BACKUP_NEEDS_LOCAL_SERVER: {
    exit: 2,
    hint: 'A physical backup copies the data directory and must run on the server host; use --method logical from here.',
  },
  TOOL_MISSING: {
    exit: 3,
    hint: 'Install it: apt-get install mariadb-backup (MariaDB) or percona-xtrabackup (MySQL), or use --method logical.',
  },
  NO_SPACE: { exit: 3, hint: 'Free disk space there, or restore somewhere with more room.' },
  INCIDENT_EXISTS: {
    exit: 2,
    hint: 'That directory already holds an incident: continue it with `salvage resume --incident DIR`, or choose another --incident.',
  },
  INCIDENT_NOT_FOUND: {
    exit: 2,
    hint: 'Give the directory `salvage recover` created (--incident DIR); it holds journal.ndjson.',
  },
  INCIDENT_BUSY: {
    exit: 2,
    hint: 'Another salvage process is working on this incident; wait for it, or end that process first.',
  },
  JOURNAL_BROKEN: {
    exit: 2,
    hint: 'The journal is append-only and hash-chained: restore the original file, or start a new incident in another directory.',
  },
  CUTOVER_FAILED: {
    exit: 3,
    hint: 'Traffic may be half switched: run the rollback command shown in the plan, then retry.',
  },
  NO_MATCH: {
    exit: 1,
    hint: 'Nothing in the binlogs read matches: loosen the search, or read more binlogs (--dir DIR).',
  },
  BINLOG_PURGED: {
    exit: 2,
    hint: 'Read the older binlogs from the archive (salvage binlog archive) with --dir DIR, or give the files with --binlog.',
  },
  MIGRATION_HISTORY_NOT_FOUND: {
    exit: 2,
    hint: 'Name the database holding the history table in the DSN (mysql://user@host/db), or locate by --grep or --table.',
  },
  MIGRATION_HISTORY_SHAPE: {
    exit: 2,
    hint: 'Locate by --grep or --table instead, or report the tool and its history table so salvage learns it.',
  },
  MIGRATION_NOT_FOUND: {
    exit: 2,
    hint: 'Give one of the ids listed (the version, or the start of the name).',
  },
  MIGRATION_NOT_IN_BINLOG: {
    exit: 2,
    hint: 'The history row was written without binary logging (sql_log_bin=0) or its binlogs are gone: read the archive with --dir DIR, or locate by --grep.',
  },
  INTERNAL: { exit: 3, hint: 'This is a bug in salvage; please report it with the command you ran.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ErrorCodes;

/** Where in a binlog, a table or a server an error happened. */
export interface ErrorContext {
  readonly file?: string;
  readonly position?: number;
  readonly table?: string;
  readonly gtid?: string;
  readonly [key: string]: unknown;
}

export class SalvageError extends Error {
  override readonly name = 'SalvageError';
  readonly code: ErrorCode;
  readonly hint: string;
  readonly exit: ExitStatus;
  readonly context: ErrorContext;

  constructor(
    code: ErrorCode,
    message: string,
    options: { hint?: string; context?: ErrorContext; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.exit = ErrorCodes[code].exit;
    this.hint = options.hint ?? ErrorCodes[code].hint;
    this.context = options.context ?? {};
  }
}

export function isSalvageError(error: unknown): error is SalvageError {
  return error instanceof SalvageError;
}
