import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Connection,
  connect,
  describeServer,
  describeTable,
  parseDsn,
  quoteValue,
  readGrants,
  readServerIdentity,
  resolveTarget,
  sameServer,
  withConnection,
} from '../../src/mysql/index.js';
import { type Sandbox, sql, startSandbox } from '../support/sandbox.js';

let server: Sandbox;
const noPasswordSources = { env: {}, home: '/nonexistent' };

function target(dsn: string) {
  return resolveTarget(parseDsn(dsn), noPasswordSources);
}

beforeAll(async () => {
  server = await startSandbox();
  await sql(
    server,
    `CREATE DATABASE shop;
     CREATE TABLE shop.orders (
       id BIGINT UNSIGNED NOT NULL, region CHAR(2) NOT NULL, code VARCHAR(10), total DECIMAL(10,2),
       doubled INT AS (LENGTH(region)) VIRTUAL, PRIMARY KEY (id, region), UNIQUE KEY by_code (code));
     INSERT INTO shop.orders (id, region, code, total) VALUES (18446744073709551615, 'eu', 'a', 1.50)`,
  );
});

describe('describeServer on a MariaDB sandbox', () => {
  it('reads flavor, version, binlog settings, GTID state, position and identity', async () => {
    const description = await withConnection(target(server.dsn), describeServer);
    expect(description.flavor).toBe('mariadb');
    expect(description.version.major).toBeGreaterThanOrEqual(10);
    expect(description.version.text).toMatch(/MariaDB/);
    expect(description.binlog).toMatchObject({
      enabled: true,
      format: 'ROW',
      rowImage: 'FULL',
      statementText: { variable: 'binlog_annotate_row_events', enabled: true },
      checksum: 'CRC32',
    });
    expect(description.gtid.flavor).toBe('mariadb');
    if (description.gtid.flavor === 'mariadb') {
      // The inserts above were logged, so the binlog GTID position is not empty.
      expect(description.gtid.binlogPos).toMatch(/^\d+-\d+-\d+/);
    }
    expect(description.position?.file).toMatch(/\.\d{6}$/);
    expect(description.position?.position).toBeGreaterThan(4);
    expect(description.binaryLogs?.map((log) => log.name)).toContain(description.position?.file);
    expect(description.identity).toMatchObject({
      flavor: 'mariadb',
      port: server.port,
      serverId: server.serverId,
      serverUuid: undefined,
    });
    expect(description.identity.datadir.replace(/\/$/, '')).toBe(server.datadir.replace(/\/$/, ''));
  });

  it('sees the same server through TCP and through the socket, and a different one elsewhere', async () => {
    const tcp = await withConnection(target(server.dsn), readServerIdentity);
    const socket = await withConnection(target(`mysql://root@/?socket=${server.socket}`), readServerIdentity);
    expect(sameServer(tcp, socket)).toBe(true);
    expect(sameServer(tcp, { ...tcp, port: tcp.port + 1 })).toBe(false);
    expect(sameServer(tcp, { ...tcp, datadir: '/elsewhere' })).toBe(false);
    expect(sameServer({ ...tcp, serverUuid: 'a' }, { ...tcp, serverUuid: 'b' })).toBe(false);
  });

  it('describes a table: types, signedness, generated columns and keys in key order', async () => {
    const shape = await withConnection(target(server.dsn), (conn) => describeTable(conn, 'shop', 'orders'));
    expect(shape?.primaryKey).toEqual(['id', 'region']);
    expect(shape?.uniqueKeys).toEqual([['code']]);
    expect(
      shape?.columns.map((column) => [column.name, column.dataType, column.unsigned, column.generated]),
    ).toEqual([
      ['id', 'bigint', true, false],
      ['region', 'char', false, false],
      ['code', 'varchar', false, false],
      ['total', 'decimal', false, false],
      ['doubled', 'int', false, true],
    ]);
    expect(
      await withConnection(target(server.dsn), (conn) => describeTable(conn, 'shop', 'nope')),
    ).toBeUndefined();
  });

  it('returns BIGINT UNSIGNED and DECIMAL exactly, as strings', async () => {
    const [row] = await withConnection(target(`${server.dsn}/shop`), async (conn: Connection) => {
      const [rows] = await conn.query('SELECT id, total FROM orders');
      return rows as { id: unknown; total: unknown }[];
    });
    expect(row).toEqual({ id: '18446744073709551615', total: '1.50' });
  });

  it('quotes values the server reads back unchanged', async () => {
    const samples = ["it's", 'back\\slash', 'nl\nzero\0ctrlz\x1a tab\t', '"double"', 'üñí €'];
    const conn = await connect(target(server.dsn));
    try {
      for (const value of samples) {
        const [rows] = await conn.query(`SELECT ${quoteValue(value)} AS v`);
        expect((rows as { v: string }[])[0]?.v).toBe(value);
      }
      const [hex] = await conn.query(`SELECT HEX(${quoteValue(new Uint8Array([0, 1, 254, 255]))}) AS v`);
      expect((hex as { v: string }[])[0]?.v).toBe('0001FEFF');
    } finally {
      await conn.end();
    }
  });

  it("reads root's grants", async () => {
    const grants = await withConnection(target(server.dsn), readGrants);
    expect(grants.account).toMatch(/^'root'@'/);
    expect(grants.global.has('ALL PRIVILEGES')).toBe(true);
  });
});
