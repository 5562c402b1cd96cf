/**
 * Moving traffic: one function per way applications find their database — a
 * user command, ProxySQL's admin interface, HAProxy's runtime API, a hosts
 * file. Each fails loudly (CUTOVER_FAILED) rather than half-succeeding quietly.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { chmod, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { SalvageError } from '../errors.js';
import { type ConnectTarget, withConnection } from '../mysql/index.js';
import type { CutoverVia } from './plan.js';

export interface Address {
  readonly host: string;
  readonly port: number;
}

/** What a switch did, in words, for the report. */
export type SwitchResult = readonly string[];

export async function runCommand(command: string, env: Record<string, string>): Promise<SwitchResult> {
  const code = await new Promise<number | null>((done, fail) => {
    // The command's output goes to stderr: stdout is kept for --json.
    const child = spawn('/bin/sh', ['-c', command], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 2, 2],
    });
    child.on('error', fail);
    child.on('close', done);
  });
  if (code !== 0) {
    throw new SalvageError('CUTOVER_FAILED', `The cutover command exited with status ${code}: ${command}`, {
      context: { command },
    });
  }
  return [`ran ${command}`];
}

export async function switchProxysql(
  admin: ConnectTarget,
  from: Address,
  to: Address,
  hostgroup: number | undefined,
): Promise<SwitchResult> {
  return withConnection(admin, async (conn) => {
    const [result] = await conn.query(
      `UPDATE mysql_servers SET hostname = ?, port = ? WHERE hostname = ? AND port = ?${hostgroup === undefined ? '' : ' AND hostgroup_id = ?'}`,
      [to.host, to.port, from.host, from.port, ...(hostgroup === undefined ? [] : [hostgroup])],
    );
    const changed = (result as { affectedRows?: number }).affectedRows ?? 0;
    if (changed === 0) {
      throw new SalvageError(
        'CUTOVER_FAILED',
        `No row of ProxySQL's mysql_servers names ${from.host}:${from.port}.`,
        {
          hint: 'Check SELECT * FROM mysql_servers on the admin interface; nothing was changed.',
        },
      );
    }
    await conn.query('LOAD MYSQL SERVERS TO RUNTIME');
    await conn.query('SAVE MYSQL SERVERS TO DISK');
    return [
      `ProxySQL: ${changed} mysql_servers row(s) now point at ${to.host}:${to.port}, loaded to runtime and saved`,
    ];
  });
}

/** One command on HAProxy's stats socket; its answer (empty when all went well for most commands). */
export function haproxyCommand(socket: string, command: string): Promise<string> {
  return new Promise((done, fail) => {
    let answer = '';
    const conn = createConnection({ path: socket });
    conn.setEncoding('utf8');
    conn.setTimeout(10_000, () => conn.destroy(new Error('no answer within 10 s')));
    conn.on('connect', () => conn.end(`${command}\n`));
    conn.on('data', (chunk: string) => {
      answer += chunk;
    });
    conn.on('error', (error) =>
      fail(
        new SalvageError('CUTOVER_FAILED', `HAProxy socket ${socket}: ${error.message}`, {
          hint: 'Check the path and that the socket is declared with `stats socket PATH level admin`.',
          context: { socket },
        }),
      ),
    );
    conn.on('close', () => done(answer.trim()));
  });
}

// Answers of the runtime API that mean the command was refused.
const HAPROXY_REFUSED = /no such|unknown|denied|require|invalid|not found|can't|error/i;

export async function switchHaproxy(socket: string, server: string, to: Address): Promise<SwitchResult> {
  if (!/^[^/\s]+\/[^/\s]+$/.test(server)) {
    throw new SalvageError('BAD_INPUT', `--haproxy-backend ${server} is not backend/server.`);
  }
  // The runtime API takes an address, not a name (names need resolvers in the configuration).
  const ip = (await lookup(to.host)).address;
  const done: string[] = [];
  for (const command of [
    `set server ${server} addr ${ip} port ${to.port}`,
    `enable server ${server}`,
    `shutdown sessions server ${server}`,
  ]) {
    const answer = await haproxyCommand(socket, command);
    if (HAPROXY_REFUSED.test(answer)) {
      throw new SalvageError('CUTOVER_FAILED', `HAProxy refused "${command}": ${answer}`, {
        context: { socket, command },
      });
    }
    done.push(`haproxy: ${command}${answer ? ` (${answer.split('\n')[0]})` : ''}`);
  }
  return done;
}

/** Points `hostname` at `to` in a hosts-format file, written to a temporary name and renamed over it. */
export async function switchHostsFile(file: string, hostname: string, to: Address): Promise<SwitchResult> {
  const ip = (await lookup(to.host)).address;
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new SalvageError(
      'FILE_NOT_FOUND',
      `Cannot read the hosts file ${file}: ${error.code ?? error.message}.`,
    );
  });
  let found = false;
  const lines = text.split('\n').map((line) => {
    const [content = '', comment] = line.split(/(?=#)/, 2);
    const fields = content.trim().split(/\s+/);
    if (fields.length < 2 || !fields.slice(1).includes(hostname)) return line;
    found = true;
    return `${ip}\t${fields.slice(1).join(' ')}${comment ? ` ${comment}` : ''}`;
  });
  if (!found) lines.splice(text.endsWith('\n') ? lines.length - 1 : lines.length, 0, `${ip}\t${hostname}`);
  const temporary = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, lines.join('\n'), { flag: 'wx' });
    await chmod(temporary, (await stat(file)).mode & 0o7777);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return [`${file}: ${hostname} → ${ip}`];
}

/** Switches traffic as `via` says. */
export async function switchTraffic(
  via: CutoverVia,
  from: { dsn: string; address: Address | undefined },
  to: { dsn: string; address: Address | undefined },
  admin: ConnectTarget | undefined,
): Promise<SwitchResult> {
  const need = (a: Address | undefined): Address => {
    if (a === undefined) throw new SalvageError('BAD_INPUT', 'This cutover method needs host:port DSNs.');
    return a;
  };
  switch (via.method) {
    case 'command':
      return runCommand(via.command, { SALVAGE_FROM_DSN: from.dsn, SALVAGE_TO_DSN: to.dsn });
    case 'proxysql':
      if (admin === undefined)
        throw new SalvageError('INTERNAL', 'ProxySQL cutover without an admin target.');
      return switchProxysql(admin, need(from.address), need(to.address), via.hostgroup);
    case 'haproxy':
      return switchHaproxy(via.socket, via.server, need(to.address));
    case 'dns-file':
      return switchHostsFile(via.file, via.hostname, need(to.address));
  }
}
