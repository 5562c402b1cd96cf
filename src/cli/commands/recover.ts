/** salvage recover: the whole runbook as one journaled, resumable incident. */
import { type Command, Option } from 'commander';
import {
  type IncidentOutcome,
  recover,
  renderMarkdown,
  STRATEGIES,
  type Strategy,
} from '../../incident/index.js';
import { addConnectionOptions, type ConnectionFlags } from '../connection-options.js';
import { createOutput, type Output } from '../output.js';
import { globalOptions } from '../program.js';

interface RecoverFlags extends ConnectionFlags {
  readonly source: string;
  readonly repo: string;
  readonly gtid?: string[];
  readonly migration?: string;
  readonly grep?: string;
  readonly strategy?: Strategy;
  readonly assert?: string;
  readonly incident?: string;
  readonly yes?: boolean;
}

export function registerRecover(program: Command): void {
  const command = program
    .command('recover')
    .description(
      'recover from a bad change: freeze, locate, measure, plan, then (with --yes) restore or undo, verify, plan the cutover and report',
    )
    .requiredOption('--source <dsn>', 'the damaged server, mysql://user@host:port')
    .requiredOption('--repo <url>', 'the backup repository, file:///path')
    .option('--gtid <gtid...>', 'the bad transaction(s)')
    .option('--migration <id>', 'the bad migration, as its tool records it (Flyway, Liquibase, Knex...)')
    .option('--grep <regex>', 'the bad change by its statement text')
    .addOption(
      new Option(
        '--strategy <strategy>',
        'pitr: stop before it; surgical: replay all but it; undo: reverse it in place',
      ).choices(STRATEGIES),
    )
    .option('--assert <file>', 'SQL queries that must return no rows on the recovered data')
    .option('--incident <dir>', 'the incident directory (default ./salvage-incident-<timestamp>)')
    .option('--yes', 'carry out the plan (without it, stop after showing the plan)', false)
    .action(async (flags: RecoverFlags, self: Command) => {
      const out = createOutput(globalOptions(self).json);
      const outcome = await recover({
        source: flags.source,
        connection: connectionSettings(flags),
        repo: flags.repo,
        gtids: flags.gtid,
        migration: flags.migration,
        grep: flags.grep,
        strategy: flags.strategy,
        assertFile: flags.assert,
        incidentDir: flags.incident,
        yes: flags.yes,
        onProgress: (message) => out.note(`salvage: ${message}`),
      });
      printOutcome(out, outcome);
    });
  addConnectionOptions(command);
}

/** The connection flags as the incident stores them for resume: paths, never secrets. */
function connectionSettings(flags: ConnectionFlags) {
  return {
    passwordFile: flags.passwordFile,
    sslMode: flags.sslMode,
    sslCa: flags.sslCa,
    sslCert: flags.sslCert,
    sslKey: flags.sslKey,
    connectTimeoutMs: flags.connectTimeout === undefined ? undefined : flags.connectTimeout * 1000,
  };
}

/** What recover and resume print: the plan awaiting approval, or the report. */
export function printOutcome(out: Output, outcome: IncidentOutcome): void {
  out.document(outcome.document);
  const { summary } = outcome;
  out.line(renderMarkdown(summary));
  if (outcome.awaitingApproval) {
    out.line('Nothing was changed but the freeze. To carry out this plan:');
    out.line(`  salvage resume --incident ${summary.dir} --yes`);
  } else if (summary.report) {
    out.line(`Report: ${summary.report.markdown} and ${summary.report.html}`);
  }
  if (summary.status === 'verification failed') process.exitCode = 1;
}
