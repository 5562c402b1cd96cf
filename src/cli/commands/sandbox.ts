/** salvage sandbox create|list|destroy: local throwaway servers, also the restore environments. */
import type { Command } from 'commander';
import {
  attachSandbox,
  createSandbox,
  listSandboxes,
  type SandboxRecord,
  type SandboxStatus,
} from '../../environment/index.js';
import { SalvageError } from '../../errors.js';
import { createOutput } from '../output.js';
import { globalOptions } from '../program.js';

interface CreateFlags {
  readonly name?: string;
  readonly port?: string;
  readonly binlog: boolean;
  readonly serverOption: string[];
}

export function registerSandbox(program: Command): void {
  const sandbox = program
    .command('sandbox')
    .description('local throwaway MariaDB/MySQL servers (also where restores go)');

  sandbox
    .command('create')
    .description('create and start a sandbox server; it keeps running until `salvage sandbox destroy`')
    .option('--name <name>', 'its name (default sandbox-<port>)')
    .option('--port <port>', 'TCP port on 127.0.0.1 (default: a free one)')
    .option('--no-binlog', 'start without the binary log')
    .option(
      '--server-option <name=value>',
      'extra server option, e.g. binlog_row_image=MINIMAL (repeatable)',
      (value: string, all: string[]) => [...all, value],
      [] as string[],
    )
    .action(async (flags: CreateFlags, self: Command) => {
      const out = createOutput(globalOptions(self).json);
      const created = await createSandbox({
        name: flags.name,
        port: flags.port === undefined ? undefined : parsePort(flags.port),
        binlog: flags.binlog,
        serverOptions: parseServerOptions(flags.serverOption),
        lifetime: 'detached',
      });
      out.document(describe(created));
      out.line(created.dsn);
      out.line(
        `sandbox ${created.name}: ${created.flavor} ${created.version}, pid ${created.pid}, data in ${created.datadir}`,
      );
      out.line(`connect with: mariadb -h 127.0.0.1 -P ${created.port} -u root`);
    });

  sandbox
    .command('list')
    .description('list the sandboxes and whether their server runs')
    .action(async (_flags: unknown, self: Command) => {
      const out = createOutput(globalOptions(self).json);
      const all = await listSandboxes();
      out.document({ sandboxes: all.map((s) => ({ ...describe(s), running: s.running })) });
      if (all.length === 0) out.line('No sandboxes. Create one with `salvage sandbox create`.');
      for (const s of all) {
        out.line(`${s.name}  ${s.dsn}  ${s.running ? `running (pid ${s.pid})` : 'stopped'}  ${s.datadir}`);
      }
    });

  sandbox
    .command('destroy')
    .description('stop sandboxes and delete their data')
    .argument('[ref]', 'the sandbox, by name or DSN')
    .option('--all', 'destroy every sandbox')
    .action(async (ref: string | undefined, flags: { all?: boolean }, self: Command) => {
      const out = createOutput(globalOptions(self).json);
      if ((ref === undefined) === (flags.all !== true)) {
        throw new SalvageError('USAGE', 'Name one sandbox (by name or DSN), or give --all.');
      }
      const refs = ref !== undefined ? [ref] : (await listSandboxes()).map((s) => s.name);
      const destroyed: string[] = [];
      for (const each of refs) {
        const target = await attachSandbox(each);
        await target.destroy();
        destroyed.push(target.name);
        out.line(`destroyed ${target.name} (${target.dsn})`);
      }
      out.document({ destroyed });
    });
}

function describe(s: SandboxRecord | SandboxStatus): Record<string, unknown> {
  return {
    dsn: s.dsn,
    name: s.name,
    port: s.port,
    datadir: s.datadir,
    pid: s.pid,
    socket: s.socket,
    flavor: s.flavor,
    version: s.version,
    serverId: s.serverId,
    binlog: s.binlog,
  };
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    throw new SalvageError('USAGE', `--port ${text} is not a TCP port number (1-65535).`);
  }
  return port;
}

function parseServerOptions(pairs: readonly string[]): Record<string, string> {
  const options: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new SalvageError('USAGE', `--server-option ${pair} is not name=value.`);
    options[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return options;
}
