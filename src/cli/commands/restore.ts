/** salvage restore: a backup into a clean environment, replayed to a cut point or without chosen transactions. */
import type { Command } from 'commander';
import { SalvageError } from '../../errors.js';
import {
  type Applier,
  parseCutPoint,
  type RestoreInto,
  type RestoreReport,
  restoreToPoint,
} from '../../restore/index.js';
import { systemTimeZone } from '../../timeline/index.js';
import { parseTableFilter } from '../../verify/index.js';
import { addConnectionOptions, type ConnectionFlags, connectTarget } from '../connection-options.js';
import { createOutput, type Output } from '../output.js';
import { globalOptions } from '../program.js';

interface RestoreFlags extends ConnectionFlags {
  readonly repo: string;
  readonly into: string;
  readonly source?: string;
  readonly before?: string;
  readonly after?: string;
  readonly until?: string;
  readonly tz?: string;
  readonly at?: string;
  readonly skip?: string[];
  readonly tables?: string;
  readonly name?: string;
  readonly applier: string;
}

export function registerRestore(program: Command): void {
  const command = program
    .command('restore')
    .description(
      'restore the newest backup before a cut point into a clean server and replay the binlog exactly to it',
    )
    .requiredOption('--repo <url>', 'the backup repository, file:///absolute/path')
    .requiredOption(
      '--into <target>',
      '"sandbox" for a new local server, or the DSN of a server that is not the source',
    )
    .option(
      '--source <dsn>',
      'the source server: binlogs the archive lacks are read from it (it is never written)',
    )
    .option('--before <gtid>', 'stop just before this transaction')
    .option('--after <gtid>', 'stop just after this transaction')
    .option('--until <time>', 'replay transactions committed up to this time')
    .option('--tz <zone>', 'time zone of --until (default: the system zone)')
    .option('--at <file:pos>', 'stop at this binlog position (a transaction boundary)')
    .option(
      '--skip <gtid...>',
      'replay everything except these transactions, and report later writes to their rows',
    )
    .option('--tables <list>', 'restore and replay only these tables: db.t,db.u')
    .option('--name <name>', 'name of the new sandbox (with --into sandbox)')
    .option(
      '--applier <who>',
      "who applies the binlog: server (the sandbox's replication applier, fed relay logs), session (BINLOG statements over one connection), or auto",
      'auto',
    )
    .action(async (flags: RestoreFlags, self: Command) => {
      const out = createOutput(globalOptions(self).json);
      const cut = parseCutPoint(flags, systemTimeZone());
      const source = flags.source === undefined ? undefined : connectTarget(flags.source, flags);
      const into: RestoreInto =
        flags.into === 'sandbox'
          ? { kind: 'sandbox', options: { name: flags.name, lifetime: 'detached' } }
          : { kind: 'server', target: connectTarget(flags.into, flags) };
      const controller = new AbortController();
      const stop = (): void => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const progress = process.stderr.isTTY && !out.json;
      try {
        const report = await restoreToPoint({
          repo: flags.repo,
          into,
          source,
          cut,
          skip: flags.skip,
          tables: flags.tables === undefined ? undefined : tableList(flags.tables),
          applier: applierOf(flags.applier),
          signal: controller.signal,
          onProgress: (p) => {
            if (!progress) return;
            if (p.kind === 'planned')
              out.note(`salvage: backup ${p.backup}, ${p.transactions} transactions to replay`);
            if (p.kind === 'restored') out.note(`salvage: backup restored in ${p.seconds} s; replaying`);
            if (p.kind === 'replaying') out.note(`salvage: ${p.replayed}/${p.total} transactions`);
          },
        });
        print(out, report);
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
  addConnectionOptions(command);
}

function print(out: Output, report: RestoreReport): void {
  out.document({
    dsn: report.dsn,
    sandbox: report.sandbox?.name ?? null,
    backup: report.backup,
    cut: report.cut,
    replayed: report.replayed,
    applier: report.applier,
    skipped: report.skipped,
    conflicts: report.conflicts,
    filtered: report.filtered,
    tables: report.tables ?? null,
    gtidsPreserved: report.gtidsPreserved,
    binlogSources: report.binlogSources,
    timings: report.timings,
  });
  out.line(`Restored ${report.dsn}${report.sandbox ? ` (sandbox ${report.sandbox.name})` : ''}`);
  out.line(`  backup    ${report.backup.id} (${report.backup.method})`);
  out.line(`  cut       ${report.cut.description} = ${report.cut.file}:${report.cut.position}`);
  out.line(
    `  replayed  ${report.replayed} transactions by the ${report.applier === 'server' ? "server's applier" : 'session replay'}${report.skipped.length ? `, skipped ${report.skipped.join(', ')}` : ''}`,
  );
  if (report.tables)
    out.line(`  tables    ${report.tables.join(', ')} (${report.filtered} transactions touched none)`);
  for (const c of report.conflicts) {
    out.line(
      `  CONFLICT  ${c.table} ${JSON.stringify(c.key)}: changed by skipped ${c.skipped}, then by ${c.later.join(', ')}`,
    );
  }
  const t = report.timings;
  out.line(
    `  time      ${t.total} s (plan ${t.plan}, restore ${t.restore}, replay ${t.replay}, conflicts ${t.conflicts})`,
  );
}

function applierOf(text: string): Applier | 'auto' {
  if (text === 'auto' || text === 'server' || text === 'session') return text;
  throw new SalvageError('BAD_INPUT', `--applier ${text}: expected server, session or auto`);
}

/** --tables as `db.table` names; whole schemas (db.*) are not replayed selectively yet. */
function tableList(text: string): string[] {
  const filter = parseTableFilter(text);
  if (filter.schemas.length > 0) {
    throw new SalvageError(
      'BAD_INPUT',
      `--tables ${text}: restore takes tables (db.table), not whole schemas`,
      {
        hint: 'List the tables of the schema one by one.',
      },
    );
  }
  return filter.tables.map((t) => `${t.schema}.${t.table}`);
}
