import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SalvageError } from '../../src/errors.js';
import { parseDsn, readClientOptions, resolveCredentials, resolveTarget } from '../../src/mysql/index.js';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'salvage-cred-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

function writeMyCnf(text: string): void {
  writeFileSync(join(home, '.my.cnf'), text, { mode: 0o600 });
}

function passwordFile(text: string): string {
  const path = join(home, 'pw');
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

describe('resolveCredentials', () => {
  it('takes --password-file first, less its trailing newline', () => {
    writeMyCnf('[client]\npassword=from-cnf\n');
    const login = resolveCredentials({
      passwordFile: passwordFile('from file \n'),
      env: { SALVAGE_PASSWORD: 'from-salvage', MYSQL_PWD: 'from-mysql' },
      home,
    });
    expect(login.source).toBe('password-file');
    expect(login.password?.reveal()).toBe('from file ');
  });

  it('takes SALVAGE_PASSWORD before MYSQL_PWD before ~/.my.cnf', () => {
    writeMyCnf('[client]\npassword=from-cnf\n');
    const both = resolveCredentials({
      env: { SALVAGE_PASSWORD: 'from-salvage', MYSQL_PWD: 'from-mysql' },
      home,
    });
    expect([both.source, both.password?.reveal()]).toEqual(['SALVAGE_PASSWORD', 'from-salvage']);
    const mysqlPwd = resolveCredentials({ env: { MYSQL_PWD: 'from-mysql' }, home });
    expect([mysqlPwd.source, mysqlPwd.password?.reveal()]).toEqual(['MYSQL_PWD', 'from-mysql']);
    const cnf = resolveCredentials({ env: {}, home });
    expect([cnf.source, cnf.password?.reveal()]).toEqual(['option-file', 'from-cnf']);
  });

  it('has no password when no source gives one', () => {
    const login = resolveCredentials({ env: { SALVAGE_PASSWORD: '' }, home });
    expect(login.source).toBe('none');
    expect(login.password).toBeUndefined();
  });

  it('reads the user and password of the client groups of ~/.my.cnf', () => {
    writeMyCnf('[mysqld]\npassword=server-side\n[client]\nuser = backup\npassword = "pa ss#word"\n');
    const login = resolveCredentials({ env: {}, home });
    expect(login.user).toBe('backup');
    expect(login.password?.reveal()).toBe('pa ss#word');
  });

  it('ignores a world-writable ~/.my.cnf, as the mysql client does', () => {
    writeMyCnf('[client]\npassword=planted\n');
    chmodSync(join(home, '.my.cnf'), 0o666);
    expect(resolveCredentials({ env: {}, home }).source).toBe('none');
  });

  it.each([
    ['a missing file', (): string => join(home, 'nope'), /Cannot read the password file .*nope \(ENOENT\)/],
    ['an empty file', (): string => passwordFile('\n'), /is empty/],
    ['two lines', (): string => passwordFile('a\nb\n'), /more than one line/],
  ])('rejects %s with PASSWORD_FILE', (_what, path, message) => {
    const run = (): unknown => resolveCredentials({ passwordFile: path(), env: {}, home });
    expect(run).toThrow(SalvageError);
    expect(run).toThrow(message);
    try {
      run();
    } catch (error) {
      expect((error as SalvageError).code).toBe('PASSWORD_FILE');
      expect((error as SalvageError).exit).toBe(2);
    }
  });

  it('never shows the password in JSON, strings or inspection of the login or the target', () => {
    const login = resolveCredentials({ env: { SALVAGE_PASSWORD: 'hunter2' }, home });
    const target = resolveTarget(parseDsn('mysql://root@db'), { env: { SALVAGE_PASSWORD: 'hunter2' }, home });
    expect(target.password?.reveal()).toBe('hunter2');
    for (const value of [login, target, login.password, target.password]) {
      expect(JSON.stringify(value) ?? '').not.toContain('hunter2');
      expect(inspect(value, { depth: 5, showHidden: true })).not.toContain('hunter2');
      expect(String(value)).not.toContain('hunter2');
      expect(`${value}`).not.toContain('hunter2');
    }
    expect(Object.keys(target)).not.toContain('password');
  });

  it('uses the DSN password-file over the command-wide one', () => {
    const own = passwordFile('own');
    const target = resolveTarget(parseDsn(`mysql://root@db?password-file=${own}`), {
      passwordFile: join(home, 'missing'),
      env: {},
      home,
    });
    expect(target.password?.reveal()).toBe('own');
  });
});

describe('readClientOptions', () => {
  it('applies the option file quoting, escape and comment rules', () => {
    const options = readClientOptions(
      [
        '# comment',
        '; comment',
        '[client]',
        'password = plain # trailing comment',
        'user=a\\sb',
        '[client-server]',
        "host = 'single \\'quoted\\''",
        '[client-mariadb]',
        'ssl_ca = /etc/ca.pem',
        'skip-ssl',
        '[mysql]',
        'password = not-for-us',
      ].join('\n'),
    );
    expect(Object.fromEntries(options)).toEqual({
      password: 'plain',
      user: 'a b',
      host: "single 'quoted'",
      'ssl-ca': '/etc/ca.pem',
      'skip-ssl': '',
    });
  });

  it('lets later client groups override earlier ones', () => {
    expect(readClientOptions('[client-mariadb]\npassword=b\n[client]\npassword=a\n').get('password')).toBe(
      'b',
    );
  });
});
