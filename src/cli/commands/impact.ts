/** salvage impact: what the bad transactions changed, later writes to the same rows, FK orphans now. */
import type { Command } from 'commander';
import type { BinlogInput } from '../../binlog/index.js';
import { expandGtids } from '../../binlog/index.js';
import { SalvageError } from '../../errors.js';
import { describeTableImpact, measureImpact, readChangesFrom } from '../../impact/index.js';
import { withConnection } from '../../mysql/index.js';
import { addConnectionOptions, type ConnectionFlags, connectTarget } from '../connection-options.js';
import { createOutput } from '../output.js';
import { globalOptions } from '../program.js';

/** Where --binlog/--dir say to read the binlog; undefined: from the server. */
export interface ChangeSourceFlags {
  readonly binlog?: string[];
  readonly dir?: string;
}

const collected = new WeakSet<string[]>();
/** A repeatable flag's values: appended in place (thousands of --gtid), never into the shared default. */
export const collect = (value: string, previous: string[]): string[] => {
  if (collected.has(previous)) {
    previous.push(value);
    return previous;
  }
  const values = [...previous, value];
  collected.add(values);
  return values;
};

export function binlogSelection(flags: ChangeSourceFlags): BinlogInput | undefined {
  if (flags.dir !== undefined && flags.binlog !== undefined) {
    throw new SalvageError('USAGE', 'give either --binlog FILES or --dir DIR, not both.');
  }
  if (flags.dir !== undefined) return { dir: flags.dir };
  if (flags.binlog !== undefined) return { files: flags.binlog };
  return undefined;
}

interface ImpactFlags extends ConnectionFlags, ChangeSourceFlags {
  readonly source: string;
  readonly gtid: string[];
}

export function registerImpact(program: Command): void {
  const command = program
    .command('impact')
    .description('rows and columns the bad transactions changed, later writes to the same rows, FK orphans')
    .requiredOption('--source <dsn>', 'the server the transactions ran on')
    .option(
      '--gtid <gtid>',
      'a transaction of interest (repeatable; also 0-1-100..0-1-250, uuid:100-250, or a comma list)',
      collect,
      [],
    )
    .option('--binlog <files...>', 'read these binlog files instead of the server')
    .option('--dir <dir>', 'read the binlogs of this directory instead of the server');
  addConnectionOptions(command).action(async (flags: ImpactFlags, self: Command) => {
    const out = createOutput(globalOptions(self).json);
    if (flags.gtid.length === 0) throw new SalvageError('USAGE', 'name the transactions with --gtid.');
    const gtids = expandGtids(flags.gtid);
    const target = connectTarget(flags.source, flags);
    const report = await withConnection(target, (conn) =>
      readChangesFrom(binlogSelection(flags) ?? { server: target, until: 'end' }, gtids, (source) =>
        measureImpact({ gtids, source, conn }),
      ),
    );
    out.document(report);
    for (const table of report.tables) for (const line of describeTableImpact(table)) out.line(line);
    for (const change of report.schemaChanges)
      out.line(`schema change ${change.gtid}: ${change.kind} — lost: ${change.loss}`);
    out.line(
      `${report.laterWrites.length} rows changed again by later transactions (${report.laterTransactions} read after the first bad one)`,
    );
    for (const w of report.laterWrites.slice(0, 20)) {
      out.line(`  ${w.table} ${JSON.stringify(w.key)}: ${w.later.join(', ')}`);
    }
    for (const fk of report.orphans.filter((o) => o.orphans > 0)) {
      out.line(
        `FK orphans: ${fk.orphans} rows of ${fk.child} (${fk.columns.join(', ')}) without a ${fk.parent} row`,
      );
    }
  });
}
