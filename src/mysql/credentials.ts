/**
 * Where a password comes from, in order: --password-file (or the DSN's
 * password-file), SALVAGE_PASSWORD, MYSQL_PWD, then ~/.my.cnf client groups.
 * Never from the command line.
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SalvageError } from '../errors.js';
import { readClientOptions } from './option-file.js';
import { Secret } from './secret.js';

export type PasswordSource = 'password-file' | 'SALVAGE_PASSWORD' | 'MYSQL_PWD' | 'option-file' | 'none';

/** A resolved login. The password is a Secret and is not an enumerable property. */
export interface Credentials {
  readonly user: string | undefined;
  readonly password: Secret | undefined;
  /** Where the password came from, to name it in "access denied" messages. */
  readonly source: PasswordSource;
  /** The option file read, when one was. */
  readonly optionFile: string | undefined;
}

export interface CredentialSources {
  readonly passwordFile?: string | undefined;
  /** Defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Defaults to $HOME, then the OS home directory. */
  readonly home?: string;
}

/** Resolves the password (and the option file's user, when it has one). */
export function resolveCredentials(sources: CredentialSources = {}): Credentials {
  const env = sources.env ?? process.env;
  const optionFile = join(sources.home ?? env.HOME ?? homedir(), '.my.cnf');
  const options = readOptionFile(optionFile);
  const user = options?.get('user') || undefined;
  const fileUsed = options ? optionFile : undefined;

  if (sources.passwordFile !== undefined) {
    return credentials(user, readPasswordFile(sources.passwordFile), 'password-file', fileUsed);
  }
  for (const name of ['SALVAGE_PASSWORD', 'MYSQL_PWD'] as const) {
    const value = env[name];
    if (value !== undefined && value !== '') return credentials(user, value, name, fileUsed);
  }
  const fromFile = options?.get('password');
  if (fromFile !== undefined) return credentials(user, fromFile, 'option-file', fileUsed);
  return credentials(user, undefined, 'none', fileUsed);
}

function credentials(
  user: string | undefined,
  password: string | undefined,
  source: PasswordSource,
  optionFile: string | undefined,
): Credentials {
  const result = { user, source, optionFile } as Credentials;
  Object.defineProperty(result, 'password', {
    value: password === undefined ? undefined : new Secret(password),
    enumerable: false,
  });
  return result;
}

/** The whole file, less one trailing newline: passwords may hold spaces. */
function readPasswordFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new SalvageError('PASSWORD_FILE', `Cannot read the password file ${path} (${code}).`);
  }
  const password = text.replace(/\r?\n$/, '');
  if (password === '') throw new SalvageError('PASSWORD_FILE', `The password file ${path} is empty.`);
  if (password.includes('\n')) {
    throw new SalvageError('PASSWORD_FILE', `The password file ${path} has more than one line.`, {
      hint: 'Put only the password in the file, on one line.',
    });
  }
  return password;
}

function readOptionFile(path: string): Map<string, string> | undefined {
  try {
    // Like the mysql client, ignore an option file anyone may write: it could hand us a password of their choice.
    if ((statSync(path).mode & 0o002) !== 0) return undefined;
    return readClientOptions(readFileSync(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SalvageError(
      'PASSWORD_FILE',
      `Cannot read the option file ${path}: ${(error as Error).message}.`,
      {
        hint: 'Fix the permissions of the option file or remove it.',
      },
    );
  }
}
