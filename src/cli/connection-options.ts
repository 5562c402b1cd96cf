/**
 * The connection flags every command that takes a DSN shares: --password-file,
 * TLS and the connect timeout, added the same way everywhere; --password and
 * -p exist only to be refused.
 */
import { type Command, Option } from 'commander';
import { SalvageError } from '../errors.js';
import { type ConnectTarget, parseDsn, resolveTarget, SSL_MODES, type SslMode } from '../mysql/index.js';

/** The parsed values of the flags addConnectionOptions adds. */
export interface ConnectionFlags {
  readonly passwordFile?: string;
  readonly sslMode?: SslMode;
  readonly sslCa?: string;
  readonly sslCert?: string;
  readonly sslKey?: string;
  readonly connectTimeout?: number;
}

/** Adds the connection flags to a command that takes --source/--target DSNs. */
export function addConnectionOptions(command: Command): Command {
  command
    .option(
      '--password-file <file>',
      'read the password from FILE (else SALVAGE_PASSWORD, MYSQL_PWD, ~/.my.cnf)',
    )
    .addOption(new Option('--ssl-mode <mode>', 'TLS policy (default preferred)').choices(SSL_MODES))
    .option('--ssl-ca <file>', 'CA certificate that signed the server certificate')
    .option('--ssl-cert <file>', 'client certificate')
    .option('--ssl-key <file>', 'client private key')
    .addOption(
      new Option('--connect-timeout <seconds>', 'give up connecting after this long (default 10)').argParser(
        parseSeconds,
      ),
    )
    // Accepted only to refuse: commander would otherwise echo the unknown option, password included.
    .addOption(new Option('-p, --password [password]').hideHelp())
    .hook('preAction', (_self, action) => {
      if (action.opts().password !== undefined) {
        throw new SalvageError(
          'PASSWORD_ON_COMMAND_LINE',
          'salvage never takes a password on the command line.',
        );
      }
    });
  return command;
}

/** Parses a DSN flag and resolves its login and TLS with the command's connection flags. */
export function connectTarget(dsn: string, flags: ConnectionFlags): ConnectTarget {
  return resolveTarget(parseDsn(dsn), {
    passwordFile: flags.passwordFile,
    tls: { mode: flags.sslMode, ca: flags.sslCa, cert: flags.sslCert, key: flags.sslKey },
    connectTimeoutMs: flags.connectTimeout === undefined ? undefined : flags.connectTimeout * 1000,
  });
}

function parseSeconds(text: string): number {
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new SalvageError('USAGE', `--connect-timeout ${text} is not a positive number of seconds.`);
  }
  return seconds;
}
