import { describe, expect, it } from 'vitest';
import {
  hasGlobalPrivilege,
  parseGrants,
  quoteIdentifier,
  quoteTableName,
  quoteValue,
} from '../../src/mysql/index.js';

describe('parseGrants', () => {
  it('reads global, database, column-level and role grants of both flavors', () => {
    const grants = parseGrants([
      "GRANT RELOAD, PROCESS, BINLOG MONITOR ON *.* TO `salvage`@`%` IDENTIFIED BY PASSWORD '*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19'",
      'GRANT BACKUP_ADMIN,REPLICATION_SLAVE_ADMIN ON *.* TO `salvage`@`%`',
      'GRANT SELECT (`id`, `name`), INSERT ON `shop`.`orders` TO `salvage`@`%`',
      'GRANT SELECT, LOCK TABLES ON `my``db`.* TO `salvage`@`%`',
      'GRANT `dba`,`reader` TO `salvage`@`%`',
    ]);
    expect([...grants.global]).toEqual([
      'RELOAD',
      'PROCESS',
      'BINLOG MONITOR',
      'BACKUP_ADMIN',
      'REPLICATION_SLAVE_ADMIN',
    ]);
    expect([...(grants.databases.get('my`db') ?? [])]).toEqual(['SELECT', 'LOCK TABLES']);
    expect(grants.databases.has('shop')).toBe(false);
    expect(grants.roles).toEqual(['dba', 'reader']);
    expect(JSON.stringify([...grants.global])).not.toContain('2470C0');
  });

  it('treats ALL PRIVILEGES on *.* as holding every static privilege', () => {
    const grants = parseGrants(['GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION']);
    expect(hasGlobalPrivilege(grants, ['REPLICATION SLAVE'])).toBe(true);
    expect(hasGlobalPrivilege(parseGrants(['GRANT USAGE ON *.* TO `x`@`%`']), ['SELECT'])).toBe(false);
  });
});

describe('quoting', () => {
  it('quotes identifiers with doubled backticks', () => {
    expect(quoteIdentifier('a`b')).toBe('`a``b`');
    expect(quoteTableName('shop', 'order items')).toBe('`shop`.`order items`');
    expect(() => quoteIdentifier('')).toThrow(/not a valid identifier/);
  });

  it('quotes values so that every special character survives', () => {
    expect(quoteValue(null)).toBe('NULL');
    expect(quoteValue(12n)).toBe('12');
    expect(quoteValue(1.5)).toBe('1.5');
    expect(quoteValue("it's \\ \n\0\x1a")).toBe("'it\\'s \\\\ \\n\\0\\Z'");
    expect(quoteValue(new Uint8Array([0, 255]))).toBe("X'00ff'");
    expect(() => quoteValue(Number.NaN)).toThrow(/cannot be written/);
  });
});
