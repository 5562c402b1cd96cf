/** salvage locate: the bad change, ranked candidates with reasons, and the cut around the best one. */
import { type Command, Option } from 'commander';
import { SalvageError } from '../../errors.js';
import {
  type Candidate,
  type CutCoordinates,
  describeRange,
  describeRows,
  type LocateQuery,
  type LocateResult,
  locate,
  shorten,
} from '../../locate/index.js';
import { formatInstant, parseTime, statementPattern, systemTimeZone } from '../../timeline/index.js';
import { addConnectionOptions, type ConnectionFlags, connectTarget } from '../connection-options.js';
import { createOutput, type Output } from '../output.js';
import { globalOptions } from '../program.js';

interface LocateFlags extends ConnectionFlags {
  readonly source?: string;
  readonly binlog?: string[];
  readonly dir?: string;
  readonly migration?: string;
  readonly grep?: string;
  readonly table?: string;
  readonly since?: string;
  readonly until?: string;
  readonly tz?: string;
  readonly limit: number;
}

export function registerLocate(program: Command): void {
  const command = program
    .command('locate')
    .description(
      'find the bad change: candidate transactions ranked best first, with reasons and the cut points',
    )
    .option(
      '--source <dsn>',
      'the server: its migration history, and its binlog (replication protocol) unless files are given',
    )
    .option('--binlog <files...>', 'read these binlog files (in order) instead of the server')
    .option('--dir <dir>', 'read the binlogs of this directory (its *.index, else every NAME.NNNNNN)')
    .option(
      '--migration <id>',
      'the migration: a version (Flyway 3), a name or its start (Knex, Laravel...); tool:id to choose the tool',
    )
    .option('--grep <regex>', 'statements matching this regular expression (case-insensitive)')
    .option('--table <db.table>', 'transactions that changed rows of this table')
    .option(
      '--since <time>',
      'with --table: from this time (YYYY-MM-DD HH:MM:SS in --tz, ISO 8601 with offset, @epoch)',
    )
    .option('--until <time>', 'with --table: up to this time (inclusive)')
    .option('--tz <zone>', 'IANA time zone for --since/--until and printed times (default: the system zone)')
    .addOption(new Option('--limit <n>', 'candidates shown').default(10).argParser(parseLimit));
  addConnectionOptions(command).action(async (flags: LocateFlags, self: Command) => {
    const out = createOutput(globalOptions(self).json);
    const zone = flags.tz ?? systemTimeZone();
    if (flags.tz === undefined && !out.json)
      out.note(`salvage: times are in ${zone} (the system zone; use --tz to choose)`);
    const result = await locate({
      source: flags.source === undefined ? undefined : connectTarget(flags.source, flags),
      binlog: binlogFiles(flags),
      query: queryOf(flags, zone),
      limit: flags.limit,
      zone,
      onNotice: (notice) => {
        if (notice.kind === 'truncated') {
          out.note(
            `salvage: warning: ${notice.file} ends inside the event at ${notice.position}; read up to the last whole event`,
          );
        }
      },
    });
    for (const warning of result.warnings)
      out.note(`salvage: warning: ${warning.message}\n  hint: ${warning.hint}`);
    if (out.json) out.document(locateJson(result));
    else printLocate(out, result, zone);
  });
}

function binlogFiles(flags: LocateFlags): { files: string[] } | { dir: string } | undefined {
  if (flags.binlog !== undefined && flags.dir !== undefined) {
    throw new SalvageError('USAGE', 'give binlog files with --binlog or a directory with --dir, not both');
  }
  if (flags.binlog !== undefined) return { files: flags.binlog };
  if (flags.dir !== undefined) return { dir: flags.dir };
  if (flags.source === undefined)
    throw new SalvageError('USAGE', 'give --source DSN (and optionally --binlog FILES or --dir DIR)');
  return undefined;
}

function queryOf(flags: LocateFlags, zone: string): LocateQuery {
  const given = [flags.migration, flags.grep, flags.table].filter((v) => v !== undefined).length;
  if (given !== 1)
    throw new SalvageError('USAGE', 'give exactly one of --migration ID, --grep RE or --table db.t');
  if ((flags.since !== undefined || flags.until !== undefined) && flags.table === undefined) {
    throw new SalvageError('USAGE', '--since/--until go with --table');
  }
  if (flags.migration !== undefined) return { kind: 'migration', id: flags.migration };
  if (flags.grep !== undefined) return { kind: 'grep', pattern: statementPattern(flags.grep) };
  const table = flags.table as string;
  if (!/^[^.]+\.[^.]+$/.test(table))
    throw new SalvageError('USAGE', `--table ${table}: write it as db.table`);
  return {
    kind: 'table',
    table,
    since: flags.since === undefined ? undefined : parseTime(flags.since, zone),
    until: flags.until === undefined ? undefined : parseTime(flags.until, zone),
  };
}

function parseLimit(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new SalvageError('USAGE', `--limit ${text} is not a positive whole number`);
  return n;
}

function cutJson(side: CutCoordinates): Record<string, unknown> {
  return { gtid: side.gtidState ?? null, file: side.file, position: side.position, point: side.point };
}

function candidateJson(c: Candidate): Record<string, unknown> {
  const tx = c.transaction;
  return {
    gtid: tx.gtid ?? null,
    file: tx.file,
    start: tx.start,
    end: tx.end,
    ts: tx.ts,
    threadId: tx.threadId ?? null,
    statement: tx.statements.length > 0 ? tx.statements.join(';\n') : null,
    rows: tx.rows,
    why: c.why,
    score: c.score,
  };
}

function locateJson(result: LocateResult): Record<string, unknown> {
  const best = result.candidates[0] as Candidate;
  return {
    candidates: result.candidates.map(candidateJson),
    cut: { before: cutJson(best.cut.before), after: cutJson(best.cut.after) },
    range: result.range,
    migration: result.migration ?? null,
    warnings: result.warnings,
  };
}

function printLocate(out: Output, result: LocateResult, zone: string): void {
  const from = result.range.source === 'server' ? 'the server' : 'the files given';
  out.line(`Read from ${from}: ${describeRange(result.range, zone)}`);
  if (result.migration) {
    const m = result.migration;
    out.line(
      `Migration ${m.label} (${m.tool}, ${m.table}): history row written by ${m.gtid ?? '-'} at ${m.file}:${m.position}`,
    );
  }
  out.line('');
  const rows = result.candidates.map((c, i) => {
    const tx = c.transaction;
    return [
      String(i + 1),
      c.score.toFixed(1),
      tx.gtid ?? '-',
      formatInstant(tx.ts, zone),
      `${tx.file}:${tx.start}`,
      describeRows(tx) || '(no rows)',
      shorten(tx.statements[0] ?? '', 70),
    ];
  });
  const header = ['#', 'score', 'gtid', 'time', 'file:pos', 'rows', 'statement'];
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((r) => (r[k] as string).length)));
  const format = (cells: string[]): string =>
    cells.map((cell, k) => (k === cells.length - 1 ? cell : cell.padEnd(widths[k] as number))).join('  ');
  out.line(format(header));
  rows.forEach((cells, i) => {
    out.line(format(cells));
    out.line(`   why: ${(result.candidates[i] as Candidate).why.join('; ')}`);
  });
  const best = result.candidates[0] as Candidate;
  const side = (p: CutCoordinates): string =>
    `${p.file}:${p.position}${p.gtidState === undefined ? '' : `, GTID state ${p.gtidState}`} (restore ${restoreFlag(p)})`;
  out.line('');
  out.line(
    `Suggested cut around #1 (${best.cut.transaction ?? `${best.transaction.file}:${best.transaction.start}`}):`,
  );
  out.line(`  stop before it: ${side(best.cut.before)}`);
  out.line(`  keep it:        ${side(best.cut.after)}`);
}

/** The restore flag that stops at this side of the cut. */
function restoreFlag(side: CutCoordinates): string {
  const p = side.point;
  if (p.kind === 'before' || p.kind === 'after') return `--${p.kind} ${p.gtid}`;
  return `--at ${side.file}:${side.position}`;
}
