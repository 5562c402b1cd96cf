/** salvage freeze / thaw: stop all writes at the start of an incident, and put things back after. */
import type { Command } from 'commander';
import { freeze, thaw } from '../../incident/index.js';
import { addConnectionOptions, type ConnectionFlags, connectTarget } from '../connection-options.js';
import { createOutput } from '../output.js';
import { globalOptions } from '../program.js';

interface FreezeFlags extends ConnectionFlags {
  readonly source: string;
  readonly killWriters?: boolean;
  readonly state?: string;
}

export function registerFreeze(program: Command): void {
  const freezeCommand = program
    .command('freeze')
    .description(
      'make the server read-only (super_read_only on MySQL), stop the event scheduler, list open writers',
    )
    .requiredOption('--source <dsn>', 'the server to freeze, mysql://user@host:port')
    .option('--kill-writers', 'end sessions with open write transactions (their changes roll back)')
    .option('--state <file>', 'where to record the prior state (default ~/.salvage/state/<server>.json)')
    .action(async (flags: FreezeFlags, self: Command) => {
      const out = createOutput(globalOptions(self).json);
      const report = await freeze(connectTarget(flags.source, flags), {
        killWriters: flags.killWriters,
        stateFile: flags.state,
      });
      out.document(report);
      out.line(`Froze ${report.server}.`);
      for (const change of report.changes)
        out.line(`  SET GLOBAL ${change.variable} = ${change.to}   (was ${change.from})`);
      if (report.changes.length === 0) out.line('  nothing to change: it was already frozen.');
      if (report.already_frozen) out.line(`  kept the prior state recorded earlier in ${report.state_file}`);
      else out.line(`  prior state recorded in ${report.state_file}`);
      for (const writer of report.writers) {
        const fate = report.killed.includes(writer.id) ? 'KILLED' : 'open';
        out.line(
          `  writer ${writer.id} ${writer.user}@${writer.host} ${writer.rows_modified} rows modified since ${writer.started}: ${fate}`,
        );
      }
      for (const warning of report.warnings) out.note(`salvage: warning: ${warning}`);
    });
  addConnectionOptions(freezeCommand);

  const thawCommand = program
    .command('thaw')
    .description('put back the read_only, super_read_only and event_scheduler settings recorded by freeze')
    .requiredOption('--source <dsn>', 'the server to thaw, mysql://user@host:port')
    .option('--state <file>', 'the state file freeze wrote (default ~/.salvage/state/<server>.json)')
    .action(async (flags: FreezeFlags, self: Command) => {
      const out = createOutput(globalOptions(self).json);
      const report = await thaw(connectTarget(flags.source, flags), { stateFile: flags.state });
      out.document(report);
      out.line(report.restored ? `Thawed ${report.server}.` : report.message);
      for (const change of report.changes)
        out.line(`  SET GLOBAL ${change.variable} = ${change.to}   (was ${change.from})`);
      if (report.restored) out.line(`  ${report.message}`);
    });
  addConnectionOptions(thawCommand);
}
