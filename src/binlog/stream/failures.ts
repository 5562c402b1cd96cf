/**
 * What the server or the network said, as SalvageErrors. mysql2 reports
 * network failures with a Node `code` and server refusals with the server's
 * `errno` and message (ER_MASTER_FATAL_ERROR_READING_BINLOG, 1236, covers
 * most dump failures, so its message decides the code).
 */
import { SalvageError } from '../../errors.js';

interface DriverError {
  readonly code?: string;
  readonly errno?: number;
  readonly sqlMessage?: string;
  readonly message?: string;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOENT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ETIMEDOUT',
  'EACCES',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
]);

/** Where the failure happened, for the message and the error context. */
export interface FailureScene {
  /** The server as the user would name it (host:port or socket path); never holds a password. */
  readonly server: string;
  readonly user?: string;
  /** The binlog file asked for, when the dump started at a file. */
  readonly file?: string;
  readonly position?: number;
  readonly gtid?: string;
}

export function replicationFailure(error: unknown, scene: FailureScene): unknown {
  if (error instanceof SalvageError || typeof error !== 'object' || error === null) return error;
  const driver = error as DriverError;
  const serverMessage = driver.sqlMessage ?? driver.message ?? String(error);
  const context = { server: scene.server, file: scene.file, position: scene.position, gtid: scene.gtid };
  const options = { context, cause: error };

  if (driver.code !== undefined && NETWORK_CODES.has(driver.code)) {
    return new SalvageError(
      'CONNECT_FAILED',
      `The connection to ${scene.server} failed: ${serverMessage}`,
      options,
    );
  }
  switch (driver.errno) {
    case 1044: // ER_DBACCESS_DENIED_ERROR
    case 1045: // ER_ACCESS_DENIED_ERROR
    case 1698: // ER_ACCESS_DENIED_NO_PASSWORD_ERROR
      return new SalvageError(
        'ACCESS_DENIED',
        `${scene.server} refused the login: ${serverMessage}`,
        options,
      );
    case 1227: // ER_SPECIFIC_ACCESS_DENIED_ERROR
      return new SalvageError(
        'ACCESS_DENIED',
        `${scene.server} refused to send its binary log: ${serverMessage}`,
        {
          ...options,
          hint: `Reading the binlog over the network needs the REPLICATION SLAVE privilege: GRANT REPLICATION SLAVE ON *.* TO ${scene.user ?? 'the user'}.`,
        },
      );
    case 1381: // ER_NO_BINARY_LOGGING
      return new SalvageError('BINLOG_DISABLED', `${scene.server} does not write a binary log.`, options);
    case 1236: // ER_MASTER_FATAL_ERROR_READING_BINLOG
      return dumpFailure(serverMessage, scene, options);
  }
  if (driver.errno !== undefined) {
    return new SalvageError(
      'SERVER_ERROR',
      `${scene.server} failed: ${serverMessage} (error ${driver.errno})`,
      options,
    );
  }
  return error;
}

function dumpFailure(
  serverMessage: string,
  scene: FailureScene,
  options: { context: Record<string, unknown>; cause: unknown },
): SalvageError {
  if (/could not find first log file/i.test(serverMessage)) {
    const what = scene.file ? `the binary log "${scene.file}"` : 'any binary log';
    return new SalvageError(
      'BINLOG_NOT_ON_SERVER',
      `${scene.server} no longer has ${what} (purged, or never written): ${serverMessage}`,
      options,
    );
  }
  if (/binary log is not open/i.test(serverMessage)) {
    return new SalvageError(
      'BINLOG_DISABLED',
      `${scene.server} does not write a binary log: ${serverMessage}`,
      options,
    );
  }
  if (/impossible position/i.test(serverMessage)) {
    return new SalvageError(
      'BAD_INPUT',
      `Position ${scene.position} is outside the binary log "${scene.file}" on ${scene.server}: ${serverMessage}`,
      { ...options, hint: `Give an event's start offset; SHOW BINLOG EVENTS IN '${scene.file}' lists them.` },
    );
  }
  if (/GTID/.test(serverMessage)) {
    return new SalvageError(
      'GTID_NOT_FOUND',
      `${scene.server} cannot start after GTID ${scene.gtid}: ${serverMessage}`,
      {
        ...options,
        hint: 'The GTID must be in the binary logs the server still has (SHOW BINARY LOGS; SELECT @@gtid_binlog_pos); older ones were purged.',
      },
    );
  }
  return new SalvageError(
    'SERVER_ERROR',
    `${scene.server} stopped sending its binary log: ${serverMessage}`,
    options,
  );
}
