/** salvage preflight: is the source server ready for exact recovery? */
import type { Command } from 'commander';
import { oldestBackupTime, openRepository } from '../../backup/index.js';
import { describeTarget, withConnection } from '../../mysql/index.js';
import { type Check, type PreflightReport, runPreflight } from '../../preflight/index.js';
import { addConnectionOptions, type ConnectionFlags, connectTarget } from '../connection-options.js';
import { createOutput, type Output } from '../output.js';
import { globalOptions } from '../program.js';

interface PreflightFlags extends ConnectionFlags {
  readonly source: string;
  readonly repo?: string;
}

export function registerPreflight(program: Command): void {
  const command = program
    .command('preflight')
    .description('check that a server is ready for exact recovery: binary log, retention, GTIDs, privileges')
    .requiredOption('--source <dsn>', 'the server to check, mysql://user@host:port')
    .option('--repo <url>', 'backup repository whose oldest backup the binlog retention must cover')
    .action(async (flags: PreflightFlags, self: Command) => {
      const out = createOutput(globalOptions(self).json);
      const target = connectTarget(flags.source, flags);
      // Opened before connecting, so a bad --repo is a usage error even when the server is down.
      const repo = flags.repo === undefined ? undefined : await openRepository(flags.repo);
      const backups = repo && { oldestBackupTime: () => oldestBackupTime(repo) };
      const report = await withConnection(target, (conn) => runPreflight(conn, { backups }));
      printReport(out, describeTarget(target), report);
      if (!report.ok) process.exitCode = 1;
    });
  addConnectionOptions(command);
}

function printReport(out: Output, dsn: string, report: PreflightReport): void {
  out.document({ server: { dsn, ...report.server }, checks: report.checks, ok: report.ok });
  const { server } = report;
  out.line(`${dsn}: ${server.flavor} ${server.version}, server_id ${server.serverId}, ${server.hostname}`);
  out.line('');
  const width = Math.max(...report.checks.map((check) => check.id.length));
  for (const check of report.checks) {
    out.line(`${label(check)}  ${check.id.padEnd(width)}  ${check.message}`);
    if (check.fix !== null) out.line(`${' '.repeat(6 + width)}  fix: ${check.fix}`);
  }
  out.line('');
  const count = (status: Check['status']): number =>
    report.checks.filter((check) => check.status === status).length;
  const summary = `${count('pass')} passed, ${count('warn')} warnings, ${count('fail')} failed`;
  out.line(report.ok ? `Ready: ${summary}.` : `NOT READY: ${summary}.`);
}

function label(check: Check): string {
  return check.status.toUpperCase().padEnd(4);
}
