/**
 * Checks of the binary log settings that exact recovery depends on: without
 * ROW events and full row images salvage cannot see or undo row changes.
 */
import type { ServerDescription } from '../mysql/index.js';
import { versionAtLeast } from '../mysql/index.js';
import { type Check, fail, pass, setVariable, warn } from './check.js';

/** Retention below this, without a backup repository to compare with, is a warning. */
export const MIN_RETENTION_SECONDS = 7 * 86_400;

export function checkServerVersion(server: ServerDescription): Check {
  const { flavor, version } = server;
  const id = 'server.version';
  const upgrade = 'Upgrade the server to a supported release (MariaDB 10.4+ or MySQL 8.0+).';
  if (flavor === 'mariadb') {
    if (versionAtLeast(version, 10, 4)) return pass(id, `MariaDB ${version.text} is supported.`);
    if (versionAtLeast(version, 10, 0)) {
      return warn(id, `MariaDB ${version.text} is past end of life and not tested with salvage.`, upgrade);
    }
    return fail(id, `MariaDB ${version.text} predates MariaDB GTIDs; salvage does not support it.`, upgrade);
  }
  if (versionAtLeast(version, 8)) return pass(id, `MySQL ${version.text} is supported.`);
  if (versionAtLeast(version, 5, 7)) {
    return warn(id, `MySQL ${version.text} is past end of life and not tested with salvage.`, upgrade);
  }
  return fail(id, `MySQL ${version.text} is not supported.`, upgrade);
}

export function checkBinlogEnabled(server: ServerDescription): Check {
  if (server.binlog.enabled) {
    const where = server.position ? ` (now at ${server.position.file}:${server.position.position})` : '';
    return pass('binlog.enabled', `The binary log is on${where}.`);
  }
  const serverId = server.identity.serverId > 0 ? server.identity.serverId : 1;
  return fail(
    'binlog.enabled',
    'The binary log is off: no point-in-time recovery, no timeline, no undo is possible.',
    `In my.cnf [mysqld]: log_bin = mysql-bin and server_id = ${serverId}, then restart the server.`,
  );
}

export function checkBinlogFormat(server: ServerDescription): Check {
  const { format } = server.binlog;
  if (format === 'ROW') return pass('binlog.format', 'binlog_format is ROW.');
  return fail(
    'binlog.format',
    `binlog_format is ${format ?? 'unknown'}: statements are logged instead of the rows they changed, so changes cannot be undone exactly.`,
    `${setVariable(server.flavor, server.version, 'binlog_format', 'ROW')} (new sessions only: reconnect the applications)`,
  );
}

export function checkRowImage(server: ServerDescription): Check {
  const { rowImage } = server.binlog;
  if (rowImage === undefined || rowImage === 'FULL')
    return pass('binlog.row-image', 'binlog_row_image is FULL.');
  return fail(
    'binlog.row-image',
    `binlog_row_image is ${rowImage}: updates and deletes do not log every column, so the old rows cannot be restored.`,
    setVariable(server.flavor, server.version, 'binlog_row_image', 'FULL'),
  );
}

export function checkRowMetadata(server: ServerDescription): Check {
  const { rowMetadata } = server.binlog;
  const consequence =
    'column names and signedness come from the live schema, which is wrong for events logged before a schema change';
  if (rowMetadata === 'FULL') return pass('binlog.row-metadata', 'binlog_row_metadata is FULL.');
  if (rowMetadata === undefined) {
    return warn(
      'binlog.row-metadata',
      `This server has no binlog_row_metadata (MySQL 8.0.1+ and MariaDB 10.5+ do): ${consequence}.`,
      'Upgrade the server to log full row metadata.',
    );
  }
  return warn(
    'binlog.row-metadata',
    `binlog_row_metadata is ${rowMetadata}: ${consequence}.`,
    setVariable(server.flavor, server.version, 'binlog_row_metadata', 'FULL'),
  );
}

export function checkStatementText(server: ServerDescription): Check {
  const { statementText } = server.binlog;
  const id = 'binlog.statement-text';
  if (statementText?.enabled)
    return pass(id, `${statementText.variable} is ON: row events carry their statement.`);
  const variable =
    statementText?.variable ??
    (server.flavor === 'mariadb' ? 'binlog_annotate_row_events' : 'binlog_rows_query_log_events');
  return warn(
    id,
    `${variable} is OFF: row events do not carry the statement that made them, so locate --grep cannot find a migration by its text.`,
    setVariable(server.flavor, server.version, variable, 'ON'),
  );
}

export function checkChecksum(server: ServerDescription): Check {
  const { checksum } = server.binlog;
  if (checksum === undefined || checksum === 'CRC32')
    return pass('binlog.checksum', 'binlog_checksum is CRC32.');
  return warn(
    'binlog.checksum',
    `binlog_checksum is ${checksum}: a damaged binary log cannot be told from a good one.`,
    setVariable(server.flavor, server.version, 'binlog_checksum', 'CRC32'),
  );
}

/** MySQL logs JSON updates as diffs with PARTIAL_JSON; those cannot be inverted to the old document. */
export function checkRowValueOptions(server: ServerDescription): Check | undefined {
  const options = server.binlog.rowValueOptions;
  if (options === undefined) return undefined;
  if (!options.includes('PARTIAL_JSON'))
    return pass('binlog.row-value-options', 'JSON updates are logged whole.');
  return warn(
    'binlog.row-value-options',
    'binlog_row_value_options is PARTIAL_JSON: JSON updates are logged as diffs, which salvage cannot undo exactly.',
    "SET PERSIST binlog_row_value_options = '';",
  );
}

export function checkGtid(server: ServerDescription): Check {
  const { gtid } = server;
  if (gtid.flavor === 'mariadb') {
    if (gtid.strictMode)
      return pass('gtid.mode', 'gtid_strict_mode is ON: GTIDs identify transactions uniquely.');
    return warn(
      'gtid.mode',
      'gtid_strict_mode is OFF: a GTID may repeat or go backwards, so cut points by GTID can be ambiguous.',
      setVariable(server.flavor, server.version, 'gtid_strict_mode', 'ON'),
    );
  }
  if (gtid.mode === 'ON') return pass('gtid.mode', 'gtid_mode is ON.');
  return warn(
    'gtid.mode',
    `gtid_mode is ${gtid.mode}: cut points can only be given as file:position.`,
    'SET PERSIST enforce_gtid_consistency = ON; then set gtid_mode to OFF_PERMISSIVE, ON_PERMISSIVE and ON, one step at a time.',
  );
}

/**
 * Binary logs must reach back to the oldest backup for it to be rolled
 * forward. Without a repository, a short window is only a warning.
 */
export function checkRetention(server: ServerDescription, oldestBackup: Date | undefined, now: Date): Check {
  const seconds = server.binlog.retentionSeconds;
  const id = 'binlog.retention';
  if (seconds === 0) return pass(id, 'Binary logs are never purged automatically.');
  const window = formatDuration(seconds);
  if (oldestBackup !== undefined) {
    const age = Math.max(0, Math.ceil((now.getTime() - oldestBackup.getTime()) / 1000));
    if (seconds >= age) {
      return pass(
        id,
        `Binary logs are kept ${window}, longer than the oldest backup's age (${formatDuration(age)}).`,
      );
    }
    return warn(
      id,
      `Binary logs are kept ${window}, but the oldest backup is ${formatDuration(age)} old: it cannot be rolled forward to the present.`,
      `${setRetention(server, age + 86_400)}, or archive binary logs with salvage binlog archive`,
    );
  }
  if (seconds < MIN_RETENTION_SECONDS) {
    return warn(
      id,
      `Binary logs are kept only ${window}: a bad change found later than that cannot be recovered exactly.`,
      setRetention(server, MIN_RETENTION_SECONDS),
    );
  }
  return pass(id, `Binary logs are kept ${window}.`);
}

/** In whole days; MariaDB before 10.6.1 has only expire_logs_days. */
function setRetention(server: ServerDescription, seconds: number): string {
  const days = Math.ceil(seconds / 86_400);
  if (server.variables.has('binlog_expire_logs_seconds')) {
    return setVariable(server.flavor, server.version, 'binlog_expire_logs_seconds', String(days * 86_400));
  }
  return setVariable(server.flavor, server.version, 'expire_logs_days', String(days));
}

export function formatDuration(seconds: number): string {
  if (seconds >= 86_400) return `${+(seconds / 86_400).toFixed(1)} days`;
  if (seconds >= 3600) return `${+(seconds / 3600).toFixed(1)} hours`;
  return `${seconds} seconds`;
}
