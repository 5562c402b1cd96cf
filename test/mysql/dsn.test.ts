import { describe, expect, it } from 'vitest';
import { SalvageError } from '../../src/errors.js';
import { formatDsn, parseDsn } from '../../src/mysql/index.js';

function errorOf(text: string): SalvageError {
  try {
    parseDsn(text);
  } catch (error) {
    if (error instanceof SalvageError) return error;
    throw error;
  }
  throw new Error(`${text} parsed`);
}

describe('parseDsn', () => {
  it('reads user, host, port and database', () => {
    expect(parseDsn('mysql://app@db.example.com:3307/shop')).toMatchObject({
      user: 'app',
      endpoint: { kind: 'tcp', host: 'db.example.com', port: 3307 },
      database: 'shop',
    });
  });

  it('defaults the port to 3306 and leaves user and database unset', () => {
    expect(parseDsn('mysql://127.0.0.1')).toMatchObject({
      user: undefined,
      endpoint: { kind: 'tcp', host: '127.0.0.1', port: 3306 },
      database: undefined,
    });
  });

  it('reads bracketed IPv6 hosts and %-escaped names', () => {
    expect(parseDsn('mysql://r%40ot@[::1]:3310/my%2Ddb')).toMatchObject({
      user: 'r@ot',
      endpoint: { kind: 'tcp', host: '::1', port: 3310 },
      database: 'my-db',
    });
  });

  it('reads a socket DSN and TLS and password-file parameters', () => {
    const dsn = parseDsn(
      'mysql://root@/app?socket=/run/mysqld/mysqld.sock&ssl-mode=VERIFY-CA&ssl-ca=/etc/ca.pem&password-file=/run/pw',
    );
    expect(dsn).toMatchObject({
      user: 'root',
      endpoint: { kind: 'socket', path: '/run/mysqld/mysqld.sock' },
      database: 'app',
      sslMode: 'verify-ca',
      sslCa: '/etc/ca.pem',
      passwordFile: '/run/pw',
    });
  });

  it('formats back to a DSN without anything secret', () => {
    expect(formatDsn(parseDsn('mysql://app@db:3307/shop'))).toBe('mysql://app@db:3307/shop');
    expect(formatDsn(parseDsn('mysql://root@/app?socket=/tmp/s.sock'))).toBe(
      'mysql://root@/app?socket=/tmp/s.sock',
    );
  });

  it.each([
    'mysql://app:hunter2@db:3306',
    'mysql://app:hunter2@db:3306/x',
    'mysql://app:hu/nter2@db', // an unescaped "/" in the password
    'mysql://app:p@ss@db',
    'mysql://app@db?password=hunter2',
  ])('refuses a password inside %s without repeating it', (text) => {
    const error = errorOf(text);
    expect(error.code).toBe('PASSWORD_ON_COMMAND_LINE');
    expect(error.exit).toBe(2);
    expect(`${error.message} ${error.hint}`).not.toMatch(/hunter2|hu\/nter2|p@ss/);
  });

  it.each([
    ['postgres://u@h', /scheme is "postgres"/],
    ['u@h:3306', /expected mysql:\/\//],
    ['mysql://u@', /names no host/],
    ['mysql://u@h:abc', /port "abc" is not a number/],
    ['mysql://u@h:70000', /port 70000 is outside 1-65535/],
    ['mysql://u@h:0', /port 0 is outside/],
    ['mysql://u@::1:3306', /IPv6 host must be written in brackets/],
    ['mysql://u@[::1', /no closing/],
    ['mysql://u@h/a/b', /contains "\/"/],
    ['mysql://u@h?sslmode=x', /unknown parameter "sslmode"/],
    ['mysql://u@h?ssl-mode=sometimes', /ssl-mode "sometimes" is not one of/],
    ['mysql://u@h?ssl-ca=', /"ssl-ca" has no value/],
    ['mysql://u@h?ssl-ca=a&ssl-ca=b', /given twice/],
    ['mysql://u@h:3306?socket=/tmp/s', /both a host .* and a socket/],
    ['mysql://u@/db?socket=tmp/s', /not absolute/],
    ['mysql://u@h/%E0%A4%A', /broken %-escape/],
    ['mysql://u@h w', /characters a host name cannot/],
  ])('rejects %s with BAD_DSN saying why', (text, why) => {
    const error = errorOf(text);
    expect(error.code).toBe('BAD_DSN');
    expect(error.exit).toBe(2);
    expect(error.message).toMatch(why);
  });
});
