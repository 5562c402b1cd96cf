/** salvage detect: an integrity scan, against a baseline when one is given. */
import { type Command, Option } from 'commander';
import { SalvageError } from '../../errors.js';
import { DEFAULT_THRESHOLDS, detect, parseTableFilter, readBaseline } from '../../verify/index.js';
import { addConnectionOptions, type ConnectionFlags, connectTarget } from '../connection-options.js';
import { createOutput } from '../output.js';
import { globalOptions } from '../program.js';
import { positiveInteger } from './verify.js';

interface DetectFlags extends ConnectionFlags {
  readonly source: string;
  readonly baseline?: string;
  readonly extended?: boolean;
  readonly tables?: string;
  readonly parallel?: number;
  readonly rowDelta?: number;
  readonly changedChunks?: number;
  readonly nullShift?: number;
  readonly distinctShift?: number;
}

export function registerDetect(program: Command): void {
  const t = DEFAULT_THRESHOLDS;
  const command = program
    .command('detect')
    .description('scan for damage: CHECK TABLE, foreign-key orphans, and changes against a baseline')
    .requiredOption('--source <dsn>', 'the server to scan, mysql://user@host:port')
    .option('--baseline <file>', 'a baseline written by `salvage snapshot`')
    .option('--extended', 'CHECK TABLE ... EXTENDED instead of QUICK (slow on large tables)')
    .option('--tables <list>', 'only these tables: db.table or db.*, comma-separated')
    .addOption(
      new Option('--parallel <n>', 'connections reading chunks (default 2)').argParser(
        positiveInteger('--parallel'),
      ),
    )
    .addOption(
      percentOption(
        '--row-delta <pct>',
        `row count change that is a finding, in % (default ${t.rowDeltaPct})`,
      ),
    )
    .addOption(
      percentOption(
        '--changed-chunks <pct>',
        `share of chunks with new checksums that is a finding, in % (default ${t.changedChunksPct})`,
      ),
    )
    .addOption(
      percentOption(
        '--null-shift <points>',
        `NULL-rate move that is a finding, in percentage points (default ${t.nullShiftPoints})`,
      ),
    )
    .addOption(
      percentOption(
        '--distinct-shift <pct>',
        `distinct-count change that is a finding, in % (default ${t.distinctShiftPct})`,
      ),
    )
    .action(async (flags: DetectFlags, self: Command) => {
      const out = createOutput(globalOptions(self).json);
      const baseline = flags.baseline === undefined ? undefined : await readBaseline(flags.baseline);
      const report = await detect({
        source: connectTarget(flags.source, flags),
        baseline,
        extended: flags.extended,
        tables: flags.tables === undefined ? undefined : parseTableFilter(flags.tables),
        parallel: flags.parallel,
        thresholds: {
          rowDeltaPct: flags.rowDelta,
          changedChunksPct: flags.changedChunks,
          nullShiftPoints: flags.nullShift,
          distinctShiftPct: flags.distinctShift,
        },
        onProgress: out.json ? undefined : (message) => out.note(`salvage: ${message}`),
      });
      out.document(report);
      out.line(
        `${report.server}: ${report.tables_checked} tables, ${report.foreign_keys_checked} foreign keys` +
          (report.baseline ? `, against the baseline of ${report.baseline.taken_at}` : ', no baseline'),
      );
      for (const finding of report.findings)
        out.line(`${finding.severity.toUpperCase().padEnd(8)} ${finding.kind.padEnd(19)} ${finding.message}`);
      out.line(report.clean ? 'No findings.' : `${report.findings.length} finding(s).`);
      if (!report.clean) process.exitCode = 1;
    });
  addConnectionOptions(command);
}

function percentOption(flags: string, description: string): Option {
  return new Option(flags, description).argParser((text) => {
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0) {
      throw new SalvageError('USAGE', `${flags.split(' ')[0]} ${text} is not a non-negative number.`);
    }
    return value;
  });
}
