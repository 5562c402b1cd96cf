/**
 * cutover against a real HAProxy fronting sandbox A: after --execute --yes a
 * new connection through HAProxy reaches sandbox B, B is writable and A is
 * read-only. The hosts-file and command methods on real files and processes.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { salvage } from '../incident/support.js';
import { type Sandbox, sql, startSandbox } from '../support/sandbox.js';

let work: string;
let a: Sandbox;
let b: Sandbox;
let haproxy: ChildProcess | undefined;
let frontPort: number;
const socket = () => join(work, 'haproxy.sock');

function haproxyBinary(): string {
  const find = () => ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((p) => existsSync(p));
  if (find() === undefined) {
    // scripts/bootstrap.sh installs it; a machine set up before it did gets it here.
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'haproxy'], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  }
  const found = find();
  if (found === undefined)
    throw new Error('haproxy is not installed and could not be installed (apt-get install haproxy)');
  return found;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

async function portThroughProxy(): Promise<number> {
  const conn = await mysql.createConnection({ host: '127.0.0.1', port: frontPort, user: 'root' });
  try {
    const [rows] = await conn.query('SELECT @@port AS port');
    return Number((rows as { port: number }[])[0]!.port);
  } finally {
    await conn.end();
  }
}

async function readOnly(server: Sandbox): Promise<number> {
  return Number((await sql<{ ro: number }>(server, 'SELECT @@global.read_only AS ro'))[0]!.ro);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'salvage-cutover-'));
  const binary = haproxyBinary();
  [a, b] = await Promise.all([startSandbox({ binlog: false }), startSandbox({ binlog: false })]);
  frontPort = await freePort();
  const config = join(work, 'haproxy.cfg');
  await writeFile(
    config,
    `global
  stats socket ${socket()} level admin
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
listen db
  bind 127.0.0.1:${frontPort}
  server primary 127.0.0.1:${a.port}
`,
  );
  haproxy = spawn(binary, ['-f', config, '-db'], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !existsSync(socket()); i++) await sleep(50);
  expect(existsSync(socket())).toBe(true);
});

afterAll(async () => {
  if (haproxy?.pid !== undefined && haproxy.exitCode === null) {
    haproxy.kill('SIGTERM');
    await new Promise((done) => haproxy?.once('exit', done));
  }
  await rm(work, { recursive: true, force: true });
});

describe('salvage cutover', () => {
  it('moves HAProxy traffic from A to B, makes B writable and keeps A read-only', async () => {
    await sql(b, 'SET GLOBAL read_only = ON');
    expect(await portThroughProxy()).toBe(a.port);
    const flags = [
      '--from',
      a.dsn,
      '--to',
      b.dsn,
      '--via',
      'haproxy',
      '--haproxy-socket',
      socket(),
      '--haproxy-backend',
      'db/primary',
      '--ssl-mode',
      'disabled',
    ];

    const plan = await salvage(['cutover', ...flags]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain(`set server db/primary addr 127.0.0.1 port ${b.port}`);
    expect(plan.stdout).toContain(`Rollback: salvage cutover --from ${b.dsn} --to ${a.dsn} --via haproxy`);
    expect(plan.stdout).toMatch(/Verify production \(step 10\)/);
    expect(await portThroughProxy()).toBe(a.port);

    const unconfirmed = await salvage(['cutover', ...flags, '--execute']);
    expect(unconfirmed.code).toBe(2);
    expect(await portThroughProxy()).toBe(a.port);

    const executed = await salvage(['cutover', ...flags, '--execute', '--yes', '--json']);
    expect(executed.stderr).toBe('');
    expect(executed.code).toBe(0);
    expect(JSON.parse(executed.stdout)).toMatchObject({
      executed: true,
      from_read_only: true,
      to_writable: true,
    });
    expect(await portThroughProxy()).toBe(b.port);
    expect(await readOnly(b)).toBe(0);
    expect(await readOnly(a)).toBe(1);
  });

  it('refuses a backend HAProxy does not know, changing nothing', async () => {
    const result = await salvage([
      'cutover',
      '--from',
      a.dsn,
      '--to',
      b.dsn,
      '--via',
      'haproxy',
      '--haproxy-socket',
      socket(),
      '--haproxy-backend',
      'db/nope',
      '--execute',
      '--yes',
      '--ssl-mode',
      'disabled',
    ]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('CUTOVER_FAILED');
  });

  it('rewrites a hosts file atomically and runs a command with both DSNs', async () => {
    const hosts = join(work, 'hosts');
    await writeFile(hosts, '127.0.0.1 localhost\n10.9.8.7 db.internal db # primary\n');
    const before = (await stat(hosts)).ino;
    const dns = await salvage([
      'cutover',
      '--from',
      a.dsn,
      '--to',
      b.dsn,
      '--via',
      'dns-file',
      '--hosts-file',
      hosts,
      '--hostname',
      'db.internal',
      '--execute',
      '--yes',
      '--ssl-mode',
      'disabled',
    ]);
    expect(dns.code).toBe(0);
    expect(await readFile(hosts, 'utf8')).toBe('127.0.0.1 localhost\n127.0.0.1\tdb.internal db # primary\n');
    expect((await stat(hosts)).ino).not.toBe(before);

    const seen = join(work, 'seen');
    const command = await salvage([
      'cutover',
      '--from',
      a.dsn,
      '--to',
      b.dsn,
      '--via',
      'command',
      '--command',
      `echo "$SALVAGE_FROM_DSN $SALVAGE_TO_DSN" > ${seen}`,
      '--execute',
      '--yes',
      '--ssl-mode',
      'disabled',
    ]);
    expect(command.code).toBe(0);
    expect((await readFile(seen, 'utf8')).trim()).toBe(`${a.dsn} ${b.dsn}`);

    const failing = await salvage([
      'cutover',
      '--from',
      a.dsn,
      '--to',
      b.dsn,
      '--via',
      'command',
      '--command',
      'exit 7',
      '--execute',
      '--yes',
      '--ssl-mode',
      'disabled',
    ]);
    expect(failing.code).toBe(3);
    expect(failing.stderr).toContain('exited with status 7');
  });
});
