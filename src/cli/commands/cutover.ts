/** salvage cutover: the plan for moving traffic to the recovered server, and (--execute --yes) doing it. */
import { type Command, Option } from 'commander';
import {
  CUTOVER_METHODS,
  type CutoverMethod,
  type CutoverPlan,
  type CutoverVia,
  executeCutover,
  planCutover,
} from '../../cutover/index.js';
import { SalvageError } from '../../errors.js';
import { parseDsn, resolveTarget } from '../../mysql/index.js';
import { addConnectionOptions, type ConnectionFlags, connectTarget } from '../connection-options.js';
import { createOutput, type Output } from '../output.js';
import { globalOptions } from '../program.js';

interface CutoverFlags extends ConnectionFlags {
  readonly from: string;
  readonly to: string;
  readonly via: CutoverMethod;
  readonly execute?: boolean;
  readonly yes?: boolean;
  readonly command?: string;
  readonly proxysqlAdmin?: string;
  readonly proxysqlPasswordFile?: string;
  readonly hostgroup?: string;
  readonly haproxySocket?: string;
  readonly haproxyBackend?: string;
  readonly hostsFile?: string;
  readonly hostname?: string;
}

export function registerCutover(program: Command): void {
  const command = program
    .command('cutover')
    .description(
      'plan (and with --execute --yes carry out) moving applications from the old primary to the recovered server',
    )
    .requiredOption('--from <dsn>', 'the old primary; it is kept read-only and untouched for the rollback')
    .requiredOption('--to <dsn>', 'the recovered server; it becomes writable')
    .addOption(
      new Option('--via <method>', 'how applications find the database')
        .choices(CUTOVER_METHODS)
        .makeOptionMandatory(),
    )
    .option('--execute', 'carry out the plan (needs --yes)', false)
    .option('--yes', 'confirm --execute', false)
    .option('--command <cmd>', '--via command: run CMD with SALVAGE_FROM_DSN and SALVAGE_TO_DSN set')
    .option('--proxysql-admin <dsn>', '--via proxysql: the admin interface', 'mysql://admin@127.0.0.1:6032')
    .option('--proxysql-password-file <file>', '--via proxysql: the admin password, from a file')
    .option('--hostgroup <n>', '--via proxysql: only this hostgroup')
    .option('--haproxy-socket <path>', '--via haproxy: the stats socket (level admin)')
    .option('--haproxy-backend <backend/server>', '--via haproxy: the server line to repoint')
    .option('--hosts-file <file>', '--via dns-file: the hosts file to rewrite')
    .option('--hostname <name>', '--via dns-file: the name applications connect to')
    .action(async (flags: CutoverFlags, self: Command) => {
      const out = createOutput(globalOptions(self).json);
      const plan = planCutover(parseDsn(flags.from), parseDsn(flags.to), viaOf(flags));
      if (!flags.execute) {
        out.document({ executed: false, ...plan });
        printPlan(out, plan);
        out.line('');
        out.line('Nothing was changed. Carry it out with --execute --yes.');
        return;
      }
      if (!flags.yes) {
        throw new SalvageError(
          'USAGE',
          '--execute changes where production traffic goes: confirm it with --yes.',
          {
            hint: 'Run without --execute first to read the plan and its rollback.',
          },
        );
      }
      const result = await executeCutover(plan, {
        from: connectTarget(flags.from, flags),
        to: connectTarget(flags.to, flags),
        admin:
          plan.via.method === 'proxysql'
            ? resolveTarget(plan.via.admin, { passwordFile: flags.proxysqlPasswordFile })
            : undefined,
      });
      out.document({ executed: true, ...result });
      printPlan(out, plan);
      out.line('');
      for (const line of result.done) out.line(`done: ${line}`);
      for (const warning of result.warnings) out.note(`salvage: warning: ${warning}`);
      out.line(`Rollback: ${plan.rollback}`);
    });
  addConnectionOptions(command);
}

function viaOf(flags: CutoverFlags): CutoverVia {
  const need = (value: string | undefined, flag: string): string => {
    if (value === undefined) throw new SalvageError('USAGE', `--via ${flags.via} needs ${flag}.`);
    return value;
  };
  switch (flags.via) {
    case 'command':
      return { method: 'command', command: need(flags.command, '--command') };
    case 'proxysql': {
      const hostgroup = flags.hostgroup === undefined ? undefined : Number(flags.hostgroup);
      if (hostgroup !== undefined && !Number.isInteger(hostgroup)) {
        throw new SalvageError('USAGE', `--hostgroup ${flags.hostgroup} is not a number.`);
      }
      return {
        method: 'proxysql',
        admin: parseDsn(need(flags.proxysqlAdmin, '--proxysql-admin')),
        hostgroup,
      };
    }
    case 'haproxy':
      return {
        method: 'haproxy',
        socket: need(flags.haproxySocket, '--haproxy-socket'),
        server: need(flags.haproxyBackend, '--haproxy-backend'),
      };
    case 'dns-file':
      return {
        method: 'dns-file',
        file: need(flags.hostsFile, '--hosts-file'),
        hostname: need(flags.hostname, '--hostname'),
      };
  }
}

function printPlan(out: Output, plan: CutoverPlan): void {
  out.line(`Cutover from ${plan.from} to ${plan.to} via ${plan.via.method}`);
  out.line('');
  out.line('What changes:');
  for (const [i, change] of plan.changes.entries()) out.line(`  ${i + 1}. ${change}`);
  out.line('');
  out.line(`Rollback: ${plan.rollback}`);
  out.line('');
  out.line('Maintenance checklist:');
  for (const item of plan.checklist) out.line(`  [ ] ${item}`);
  for (const warning of plan.warnings) out.note(`salvage: warning: ${warning}`);
}
