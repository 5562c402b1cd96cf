/** salvage verify: prove two servers hold the same data, and that the target is sound. */
import { type Command, Option } from 'commander';
import { SalvageError } from '../../errors.js';
import { parseTableFilter, type VerifyReport, verifyServers } from '../../verify/index.js';
import { addConnectionOptions, type ConnectionFlags, connectTarget } from '../connection-options.js';
import { createOutput, type Output } from '../output.js';
import { globalOptions } from '../program.js';

interface VerifyFlags extends ConnectionFlags {
  readonly source: string;
  readonly target: string;
  readonly tables?: string;
  readonly assert?: string;
  readonly smoke?: string;
  readonly smokeTimeout?: number;
  readonly parallel?: number;
  readonly chunkRows?: number;
  readonly checkTable: boolean;
  readonly checksumTable: boolean;
}

export function registerVerify(program: Command): void {
  const command = program
    .command('verify')
    .description(
      'compare two servers table by table (row counts, chunk checksums, differing keys) and check the target',
    )
    .requiredOption('--source <dsn>', 'the reference server, mysql://user@host:port')
    .requiredOption('--target <dsn>', 'the server to prove (e.g. the restored one)')
    .option(
      '--tables <list>',
      'only these tables: db.table or db.*, comma-separated (default: all but system schemas)',
    )
    .option('--assert <file>', 'SQL queries, separated by ;, that must each return no rows on the target')
    .option(
      '--smoke <command>',
      'shell command run with SALVAGE_TARGET_DSN and SALVAGE_SOURCE_DSN set; must exit 0',
    )
    .addOption(
      new Option(
        '--smoke-timeout <seconds>',
        'stop the smoke command after this long (default 300)',
      ).argParser(positiveInteger('--smoke-timeout')),
    )
    .addOption(
      new Option('--parallel <n>', 'connections per server reading chunks (default 2)').argParser(
        positiveInteger('--parallel'),
      ),
    )
    .addOption(
      new Option('--chunk-rows <n>', 'rows per checksum chunk (default 50000)').argParser(
        positiveInteger('--chunk-rows'),
      ),
    )
    .option('--no-check-table', 'skip CHECK TABLE on the target')
    .option(
      '--no-checksum-table',
      'compare every table chunk by chunk, even when CHECKSUM TABLE could tell it equal',
    )
    .action(async (flags: VerifyFlags, self: Command) => {
      const out = createOutput(globalOptions(self).json);
      const report = await verifyServers({
        source: connectTarget(flags.source, flags),
        target: connectTarget(flags.target, flags),
        tables: flags.tables === undefined ? undefined : parseTableFilter(flags.tables),
        assertFile: flags.assert,
        smoke:
          flags.smoke === undefined
            ? undefined
            : {
                command: flags.smoke,
                timeoutMs: flags.smokeTimeout === undefined ? undefined : flags.smokeTimeout * 1000,
              },
        passwordFiles: { source: flags.passwordFile, target: flags.passwordFile },
        parallel: flags.parallel,
        chunkRows: flags.chunkRows,
        checkTables: flags.checkTable,
        checksumTable: flags.checksumTable,
        onProgress: out.json ? undefined : (message) => out.note(`salvage: ${message}`),
      });
      out.document(report);
      printReport(out, report);
      if (!report.equal) process.exitCode = 1;
    });
  addConnectionOptions(command);
}

/** A commander argument parser for a positive whole number. */
export function positiveInteger(flag: string): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value <= 0) {
      throw new SalvageError('USAGE', `${flag} ${text} is not a positive whole number.`);
    }
    return value;
  };
}

function printReport(out: Output, report: VerifyReport): void {
  out.line(`source ${report.source}  →  target ${report.target}`);
  for (const table of report.tables) {
    const rows = `${table.rows.source ?? '-'} / ${table.rows.target ?? '-'} rows`;
    const chunks = table.chunks > 1 ? `, ${table.chunks_differing} of ${table.chunks} chunks differ` : '';
    out.line(
      `${table.status === 'equal' ? 'EQUAL ' : 'DIFFER'}  ${table.table}  ${table.status}  (${rows}${chunks})`,
    );
    for (const sample of table.sample_keys) out.line(`        ${sample.kind}: ${JSON.stringify(sample.key)}`);
    for (const difference of table.schema_differences) {
      out.line(
        `        ${difference.kind}${difference.column ? ` ${difference.column}` : ''}${difference.before ? `: ${difference.before} → ${difference.after}` : ''}`,
      );
    }
    for (const note of table.notes) out.line(`        note: ${note}`);
  }
  for (const check of report.check.filter((c) => c.status !== 'ok')) {
    out.line(`CHECK   ${check.table}: ${check.status}: ${check.messages.join('; ')}`);
  }
  for (const orphan of report.orphans.filter((o) => o.orphans > 0)) {
    out.line(
      `ORPHANS ${orphan.table} (${orphan.columns.join(', ')}) → ${orphan.references}: ${orphan.orphans} rows, e.g. ${JSON.stringify(orphan.samples)}`,
    );
  }
  for (const assertion of report.assertions.filter((a) => !a.passed)) {
    out.line(`ASSERT  failed (${assertion.error ?? `${assertion.rows} rows`}): ${assertion.statement}`);
  }
  if (report.smoke) {
    out.line(
      `SMOKE   ${report.smoke.passed ? 'passed' : 'FAILED'} (exit ${report.smoke.exit_code ?? report.smoke.signal}, ${report.smoke.duration_ms} ms): ${report.smoke.command}`,
    );
    if (!report.smoke.passed && report.smoke.output) out.line(report.smoke.output.trimEnd());
  }
  const differing = report.tables.filter((t) => t.status !== 'equal').map((t) => t.table);
  out.line(
    report.equal
      ? `Equal: ${report.tables.length} tables, checks passed (${report.duration_ms} ms).`
      : `NOT EQUAL${differing.length > 0 ? `: ${differing.join(', ')} differ` : ''}.`,
  );
}
