/** salvage snapshot: a baseline of a server for detect to compare against. */
import { type Command, Option } from 'commander';
import { parseTableFilter, takeSnapshot, writeBaseline } from '../../verify/index.js';
import { addConnectionOptions, type ConnectionFlags, connectTarget } from '../connection-options.js';
import { createOutput } from '../output.js';
import { globalOptions } from '../program.js';
import { positiveInteger } from './verify.js';

interface SnapshotFlags extends ConnectionFlags {
  readonly source: string;
  readonly out: string;
  readonly tables?: string;
  readonly parallel?: number;
  readonly chunkRows?: number;
}

export function registerSnapshot(program: Command): void {
  const command = program
    .command('snapshot')
    .description(
      'write a baseline: row counts, checksums, chunk checksums, schema fingerprints, column profiles',
    )
    .requiredOption('--source <dsn>', 'the server to measure, mysql://user@host:port')
    .requiredOption('--out <file>', 'where to write the baseline (JSON)')
    .option('--tables <list>', 'only these tables: db.table or db.*, comma-separated')
    .addOption(
      new Option('--parallel <n>', 'connections reading chunks (default 2)').argParser(
        positiveInteger('--parallel'),
      ),
    )
    .addOption(
      new Option('--chunk-rows <n>', 'rows per checksum chunk (default 50000)').argParser(
        positiveInteger('--chunk-rows'),
      ),
    )
    .action(async (flags: SnapshotFlags, self: Command) => {
      const out = createOutput(globalOptions(self).json);
      const baseline = await takeSnapshot({
        source: connectTarget(flags.source, flags),
        tables: flags.tables === undefined ? undefined : parseTableFilter(flags.tables),
        parallel: flags.parallel,
        chunkRows: flags.chunkRows,
        onProgress: out.json ? undefined : (message) => out.note(`salvage: ${message}`),
      });
      await writeBaseline(flags.out, baseline);
      const rows = baseline.tables.reduce((sum, t) => sum + t.rows, 0);
      out.document({
        file: flags.out,
        server: baseline.server,
        taken_at: baseline.taken_at,
        tables: baseline.tables.length,
        rows,
        notes: baseline.notes,
      });
      out.line(
        `Baseline of ${baseline.server}: ${baseline.tables.length} tables, ${rows} rows → ${flags.out}`,
      );
      for (const note of baseline.notes) out.line(`note: ${note}`);
    });
  addConnectionOptions(command);
}
