/**
 * The replication source against a real MariaDB: what it yields must be the
 * binlog files' events, byte for byte, at their file offsets.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEvents } from '../../src/binlog/event-stream.js';
import { readBinlogBatches } from '../../src/binlog/index.js';
import { readBinlogFiles } from '../../src/binlog/sources/files.js';
import { openReplicationStream, type ReplicationStreamOptions } from '../../src/binlog/stream/index.js';
import type { RawEvent } from '../../src/binlog/types.js';
import { type ConnectTarget, parseDsn, resolveTarget } from '../../src/mysql/index.js';
import { connect, type Sandbox, sql, startSandbox } from '../support/sandbox.js';

const FORMAT_DESCRIPTION = 15;
const XID = 16;
const ANNOTATE_ROWS = 160;
const MARIADB_GTID = 162;
const MARIADB_GTID_LIST = 163;

let server: Sandbox;
let home: string;

/** A login for the sandbox that reads no password from this machine's environment or ~/.my.cnf. */
function target(user = 'root', password?: string): ConnectTarget {
  return resolveTarget(parseDsn(`mysql://${user}@127.0.0.1:${server.port}`), {
    env: password === undefined ? {} : { SALVAGE_PASSWORD: password },
    home,
    tls: { mode: 'disabled' },
  });
}

async function collect(options: Partial<ReplicationStreamOptions>, consume?: (e: RawEvent) => Promise<void>) {
  const events: RawEvent[] = [];
  for await (const event of openReplicationStream({ server: target(), ...options })) {
    events.push(event);
    await consume?.(event);
  }
  return events;
}

/** Every event of the server's binlog files, read from its binlog directory by the file source. */
async function eventsInFiles(): Promise<RawEvent[]> {
  const events: RawEvent[] = [];
  for await (const event of readBinlogFiles({ dir: join(server.dir, 'binlog') })) {
    events.push({ ...event, bytes: Buffer.from(event.bytes) });
  }
  return events;
}

/**
 * The server sends a FORMAT_DESCRIPTION with its "binlog in use" flag
 * cleared (sql_repl.cc); its CRC32 is computed as if the flag were clear, so
 * clearing it in the file's copy is the only difference there may be.
 */
function asSent(event: RawEvent): RawEvent {
  if (event.bytes[4] !== FORMAT_DESCRIPTION) return event;
  const bytes = Buffer.from(event.bytes);
  bytes.writeUInt16LE(bytes.readUInt16LE(17) & ~0x0001, 17);
  return { ...event, bytes };
}

const key = (e: RawEvent) => `${e.file}:${e.position}`;

async function* eachEvent(events: readonly RawEvent[]): AsyncGenerator<RawEvent> {
  yield* events;
}
const typeOf = (e: RawEvent) => e.bytes[4];

async function binlogDumpThreads(): Promise<number> {
  const rows = await sql<{ Command: string }>(server, 'SHOW PROCESSLIST');
  return rows.filter((row) => row.Command === 'Binlog Dump').length;
}

async function untilNoDumpThread(): Promise<number> {
  for (let i = 0; i < 40 && (await binlogDumpThreads()) > 0; i++) await sleep(50);
  return binlogDumpThreads();
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'salvage-stream-home-'));
  server = await startSandbox();
  await sql(
    server,
    `CREATE DATABASE app;
     CREATE TABLE app.item (id INT PRIMARY KEY, label VARCHAR(100), data BLOB);
     CREATE USER 'reader'@'%' IDENTIFIED BY 'right-password';
     GRANT REPLICATION SLAVE ON *.* TO 'reader'@'%';
     CREATE USER 'nobody'@'%' IDENTIFIED BY 'other-password';`,
  );
  for (let i = 1; i <= 20; i++) {
    await sql(server, 'INSERT INTO app.item VALUES (?, ?, REPEAT(?, ?))', [i, `item ${i}`, 'x', i * 500]);
    if (i % 7 === 0) await sql(server, 'FLUSH BINARY LOGS');
  }
  await sql(server, 'UPDATE app.item SET label = CONCAT(label, "!") WHERE id <= 10');
  await sql(server, 'DELETE FROM app.item WHERE id > 15');
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('replication stream from a live MariaDB', () => {
  it('yields, from the first binlog to the end, exactly the events in the files', async () => {
    const streamed = await collect({ start: { kind: 'first' }, until: 'end' });
    const files = (await eventsInFiles()).map(asSent);
    expect(new Set(files.map((e) => e.file)).size).toBeGreaterThanOrEqual(3);
    expect(streamed.map(key)).toEqual(files.map(key));
    for (let i = 0; i < files.length; i++) {
      expect(
        streamed[i]?.bytes.equals(files[i]?.bytes as Buffer),
        `event at ${key(files[i] as RawEvent)}`,
      ).toBe(true);
    }
    const types = new Set(streamed.map(typeOf));
    for (const type of [ANNOTATE_ROWS, MARIADB_GTID, MARIADB_GTID_LIST, XID]) expect(types).toContain(type);
  });

  it('gives the same sequence when the consumer is slower than the server (socket paused and resumed)', async () => {
    const fast = await collect({});
    const slow = await collect({ bufferBytes: 2048 }, async (event) => {
      if (event.position % 3 === 0) await sleep(1);
    });
    expect(slow.map(key)).toEqual(fast.map(key));
    expect(Buffer.concat(slow.map((e) => e.bytes)).equals(Buffer.concat(fast.map((e) => e.bytes)))).toBe(
      true,
    );
  });

  it('starts at a file and position in the middle, after the resent FORMAT_DESCRIPTION', async () => {
    const files = (await eventsInFiles()).map(asSent);
    const second = files.filter((e) => e.file === files[0]?.file.replace(/1$/, '2'));
    const from = second.filter((e) => typeOf(e) === MARIADB_GTID)[1] as RawEvent;
    const streamed = await collect({ start: { kind: 'position', file: from.file, position: from.position } });

    const first = streamed[0] as RawEvent;
    expect([first.file, first.position, typeOf(first)]).toEqual([from.file, 4, FORMAT_DESCRIPTION]);
    expect(first.bytes.readUInt32LE(13)).toBe(0); // log_pos 0: the server's mark for a resent description
    const rest = streamed.slice(1);
    const expected = files.slice(files.indexOf(from));
    expect(rest.map(key)).toEqual(expected.map(key));
    expect(rest.every((e, i) => e.bytes.equals(expected[i]?.bytes as Buffer))).toBe(true);

    // The decoders take it as they take a file: CRC32s verified, the resent description included.
    let decoded = 0;
    for await (const _ of decodeEvents(
      openReplicationStream({
        server: target(),
        start: { kind: 'position', file: from.file, position: from.position },
      }),
      { verify: true, strict: true },
    ))
      decoded++;
    expect(decoded).toBeGreaterThanOrEqual(streamed.length);
  });

  it('starts after a MariaDB GTID: the next transaction comes first', async () => {
    const files = await eventsInFiles();
    const gtids = files.filter((e) => typeOf(e) === MARIADB_GTID);
    const target5 = gtids[5] as RawEvent;
    const [{ pos }] = (await sql<{ pos: string }>(server, 'SELECT BINLOG_GTID_POS(?, ?) AS pos', [
      target5.file,
      target5.position,
    ])) as [{ pos: string }];
    const streamed = await collect({ start: { kind: 'gtid', after: pos } });
    const firstGtid = streamed.find((e) => typeOf(e) === MARIADB_GTID);
    expect(firstGtid && key(firstGtid)).toBe(key(target5));
    expect(firstGtid?.bytes.equals(target5.bytes)).toBe(true);
    expect(streamed.at(-1)?.position).toBe(files.at(-1)?.position);
  });

  it('follows new writes, and breaking out closes the dump on the server', async () => {
    const [status] = await sql<{ File: string; Position: number }>(server, 'SHOW MASTER STATUS');
    const start = {
      kind: 'position',
      file: status?.File as string,
      position: Number(status?.Position),
    } as const;
    const writer = await connect(server);
    const seen: RawEvent[] = [];
    let dumpThreadsWhileFollowing = 0;
    try {
      for await (const event of openReplicationStream({ server: target(), start, until: 'follow' })) {
        seen.push(event);
        if (typeOf(event) === FORMAT_DESCRIPTION) {
          dumpThreadsWhileFollowing = await binlogDumpThreads();
          await writer.query("INSERT INTO app.item VALUES (100, 'followed', NULL)");
        }
        if (typeOf(event) === XID) break;
      }
    } finally {
      await writer.end();
    }
    expect(dumpThreadsWhileFollowing).toBe(1);
    expect(seen.map(typeOf)).toEqual(expect.arrayContaining([MARIADB_GTID, ANNOTATE_ROWS, XID]));
    const xid = seen.at(-1) as RawEvent;
    const [after] = await sql<{ Position: number }>(server, 'SHOW MASTER STATUS');
    expect(xid.position + xid.bytes.length).toBe(Number(after?.Position));
    expect(await untilNoDumpThread()).toBe(0);
  });

  it('keeps an idle follow alive on heartbeats, which it does not yield', async () => {
    const [status] = await sql<{ File: string; Position: number }>(server, 'SHOW MASTER STATUS');
    const start = {
      kind: 'position',
      file: status?.File as string,
      position: Number(status?.Position),
    } as const;
    // Silence for 3 heartbeat periods (0.6 s) would fail the stream; the write comes after 1.5 s.
    const write = sleep(1_500).then(() => sql(server, "INSERT INTO app.item VALUES (101, 'late', NULL)"));
    const types: number[] = [];
    for await (const event of openReplicationStream({
      server: target(),
      start,
      until: 'follow',
      heartbeatSeconds: 0.2,
    })) {
      types.push(typeOf(event) as number);
      if (typeOf(event) === XID) break;
    }
    await write;
    expect(types[0]).toBe(FORMAT_DESCRIPTION);
    expect(types[1]).toBe(MARIADB_GTID);
    expect(types).not.toContain(27);
  });

  it('closes the dump when the consumer stops early in until-end mode', async () => {
    for await (const event of openReplicationStream({ server: target() })) {
      if (typeOf(event) === MARIADB_GTID) break;
    }
    expect(await untilNoDumpThread()).toBe(0);
  });

  it('carries an event longer than one protocol packet (16 MiB), reassembled exactly', async () => {
    await sql(server, 'SET GLOBAL max_allowed_packet = 64 * 1024 * 1024');
    const [status] = await sql<{ File: string; Position: number }>(server, 'SHOW MASTER STATUS');
    await sql(server, 'CREATE TABLE app.big (id INT PRIMARY KEY, data LONGBLOB)');
    await sql(server, "INSERT INTO app.big VALUES (1, REPEAT('b', 17 * 1024 * 1024))");
    const file = status?.File as string;
    const streamed = await collect({ start: { kind: 'position', file, position: Number(status?.Position) } });
    const inFile = (await eventsInFiles()).filter(
      (e) => e.file === file && e.position >= Number(status?.Position),
    );
    const big = streamed.find((e) => e.bytes.length > 16 * 1024 * 1024);
    expect(big).toBeDefined();
    expect(streamed.slice(1).map(key)).toEqual(inFile.map(key));
    expect(streamed.slice(1).every((e, i) => e.bytes.equals(inFile[i]?.bytes as Buffer))).toBe(true);
  });

  it('keeps events exact read in place across the buffers they arrive in, and ones larger than a buffer', async () => {
    const [status] = await sql<{ File: string; Position: number }>(server, 'SHOW MASTER STATUS');
    await sql(server, 'CREATE TABLE app.mixed (id INT PRIMARY KEY, data MEDIUMBLOB)');
    // 2.7 MB of rows from 1.5 KB to 400 KB: many socket reads, and events spanning several of them.
    for (let i = 1; i <= 40; i++) {
      await sql(server, 'INSERT INTO app.mixed VALUES (?, REPEAT(?, ?))', [
        i,
        'm',
        i % 9 === 0 ? 400_000 : i * 1_500,
      ]);
    }
    const file = status?.File as string;
    const position = Number(status?.Position);
    const streamed = await collect({ start: { kind: 'position', file, position } });
    const all = await eventsInFiles();
    const inFile = all.filter((e) => e.file === file && e.position >= position);
    const opening = all.find((e) => e.file === file && e.position === 4) as RawEvent;
    expect(inFile.reduce((n, e) => n + e.bytes.length, 0)).toBeGreaterThan(2 * 2 ** 20);
    expect(streamed.slice(1).map(key)).toEqual(inFile.map(key));
    expect(streamed.slice(1).every((e, i) => e.bytes.equals(inFile[i]?.bytes as Buffer))).toBe(true);
    // Decoded in place from what was received, as from the file.
    const decoded: string[] = [];
    for await (const batch of readBinlogBatches({
      server: target(),
      start: { kind: 'position', file, position },
    })) {
      for (const event of batch) decoded.push(`${event.header.file}:${event.header.position}:${event.kind}`);
    }
    const fromFile: string[] = [];
    for await (const event of decodeEvents(eachEvent([opening, ...inFile]))) {
      fromFile.push(`${event.header.file}:${event.header.position}:${event.kind}`);
    }
    expect(decoded).toEqual(fromFile);
    expect(decoded.length).toBeGreaterThan(160);
  });

  it('names an unknown or purged binlog file with BINLOG_NOT_ON_SERVER', async () => {
    const missing = collect({ start: { kind: 'position', file: 'binlog.999999' } });
    await expect(missing).rejects.toMatchObject({
      code: 'BINLOG_NOT_ON_SERVER',
      context: { file: 'binlog.999999' },
    });
    await expect(missing).rejects.toThrow(/binlog\.999999/);
  });

  it('refuses a position past the end of the file with BAD_INPUT', async () => {
    const [first] = await sql<{ Log_name: string }>(server, 'SHOW BINARY LOGS');
    await expect(
      collect({ start: { kind: 'position', file: first?.Log_name as string, position: 50_000_000 } }),
    ).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('refuses a GTID the binlog does not have with GTID_NOT_FOUND', async () => {
    await expect(collect({ start: { kind: 'gtid', after: '0-1-999999' } })).rejects.toMatchObject({
      code: 'GTID_NOT_FOUND',
    });
  });

  it('maps a wrong password to ACCESS_DENIED and a missing REPLICATION SLAVE grant to a hint naming it', async () => {
    const wrong = openReplicationStream({ server: target('reader', 'wrong-password') });
    await expect(wrong.next()).rejects.toMatchObject({ code: 'ACCESS_DENIED' });

    const noGrant = openReplicationStream({ server: target('nobody', 'other-password') });
    await expect(noGrant.next()).rejects.toMatchObject({
      code: 'ACCESS_DENIED',
      hint: expect.stringMatching(/REPLICATION SLAVE/),
    });

    // With the grant and nothing more (no SHOW MASTER STATUS), until-end still ends.
    const events: RawEvent[] = [];
    for await (const event of openReplicationStream({ server: target('reader', 'right-password') }))
      events.push(event);
    expect(events.length).toBeGreaterThan(20);
  });

  it('says the file was purged after PURGE BINARY LOGS', async () => {
    const logs = await sql<{ Log_name: string }>(server, 'SHOW BINARY LOGS');
    const oldest = logs[0]?.Log_name as string;
    await sql(server, `PURGE BINARY LOGS TO '${logs[1]?.Log_name}'`);
    await expect(collect({ start: { kind: 'position', file: oldest } })).rejects.toMatchObject({
      code: 'BINLOG_NOT_ON_SERVER',
      message: expect.stringContaining(oldest),
    });
    const streamed = await collect({});
    expect(streamed[0]?.file).toBe(logs[1]?.Log_name);
  });
});
