/**
 * Undo benchmark: compensating SQL for the last N transactions of a sysbench
 * oltp_write_only binlog, `salvage undo` (conflict guard on: every row
 * checked against the live server) against `mariadb-binlog --flashback` on
 * the same byte range, interleaved in the same run.
 * Usage (through run.sh): [--size-mb N] [--transactions N] [--repetitions N] [--no-write]
 *   [--baseline DIR]: also time the salvage build in DIR (its bench/binlog/salvage.js), an
 *   earlier commit compiled the way run.sh compiles this one, for before/after in the same run.
 */
import { execFile } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import {
  type Contender,
  compare,
  cpuTicks,
  eachLine,
  loadAverages,
  markdownTable,
  mb,
  type Summary,
  seconds,
  stealBetween,
  writeResultsSection,
} from '../binlog/measure.js';
import { buildSysbenchWorkload } from '../binlog/workload.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, here.includes(join('bench', 'data')) ? '../../../../..' : '../..');
const dataDir = join(root, 'bench', 'data');
/** The CLI entry compiled with this file (run.sh builds both). */
const salvageEntry = join(here, '..', 'binlog', 'salvage.js');

const run = promisify(execFile);

const log = (text: string): void => {
  process.stderr.write(`${text}\n`);
};

interface TimelineLine {
  readonly gtid: string | null;
  readonly file: string;
  readonly start: number;
  readonly end: number;
  readonly rows: Record<string, { insert: number; update: number; delete: number }>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'size-mb': { type: 'string', default: '150' },
      transactions: { type: 'string', default: '50000' },
      repetitions: { type: 'string', default: '3' },
      'no-write': { type: 'boolean', default: false },
      baseline: { type: 'string' },
    },
  });
  const wanted = Number(values.transactions);
  const repetitions = Number(values.repetitions);
  const loadBefore = loadAverages();
  const workload = await buildSysbenchWorkload({
    dataDir,
    targetBytes: Number(values['size-mb']) * 2 ** 20,
    log,
  });
  try {
    const files = workload.files;
    const last = files.at(-1) as string;
    let bytes = 0;
    for (const file of files) bytes += (await stat(file)).size;
    // The bad range: the last N row transactions of the last file, as GTIDs and as a byte range.
    const timeline: TimelineLine[] = [];
    await eachLine([salvageEntry, 'binlog', 'timeline', '--json', last], (line) => {
      const tx = JSON.parse(line) as TimelineLine;
      if (tx.gtid !== null && Object.keys(tx.rows).length > 0) timeline.push(tx);
    });
    if (timeline.length < wanted) {
      throw new Error(
        `the last binlog file holds ${timeline.length} transactions, fewer than the ${wanted} wanted: raise --size-mb`,
      );
    }
    const range = timeline.slice(-wanted);
    const first = range[0] as TimelineLine;
    const end = (range.at(-1) as TimelineLine).end;
    const rowCount = range.reduce(
      (n, tx) => n + Object.values(tx.rows).reduce((m, c) => m + c.insert + c.update + c.delete, 0),
      0,
    );
    log(`range: ${range.length} transactions, ${rowCount} row changes, ${last}:${first.start}-${end}`);
    const outDir = join(dataDir, 'undo');
    await mkdir(outDir, { recursive: true });
    const contenders: Contender[] = [
      {
        name: 'mariadb-binlog --flashback',
        program: 'mariadb-binlog',
        args: ['--flashback', `--start-position=${first.start}`, `--stop-position=${end}`, last],
      },
      {
        name: 'salvage undo --out (conflict guard on)',
        program: process.execPath,
        args: [
          salvageEntry,
          'undo',
          '--source',
          workload.sandbox.dsn,
          '--binlog',
          ...files,
          ...gtidArguments(range.map((tx) => tx.gtid as string)),
          '--on-conflict',
          'skip',
          '--out',
          join(outDir, 'undo.sql'),
          '--json',
        ],
      },
    ];
    // The default when no binlog is named: the same undo read over the replication protocol.
    const fromFiles = contenders[1] as Contender;
    const streamArgs = fromFiles.args.filter((a) => a !== '--binlog' && !files.includes(a));
    streamArgs[streamArgs.indexOf('--out') + 1] = join(outDir, 'undo-server.sql');
    contenders.push({
      name: 'salvage undo --out, binlog from the server',
      program: process.execPath,
      args: streamArgs,
    });
    if (values.baseline !== undefined) {
      const entry = join(resolve(values.baseline), 'bench', 'binlog', 'salvage.js');
      const undo = contenders[1] as Contender;
      const args = undo.args.map((a) => (a === salvageEntry ? entry : a));
      args[args.indexOf('--out') + 1] = join(outDir, 'undo-baseline.sql');
      contenders.push({ name: 'salvage undo --out, baseline build', program: process.execPath, args });
    }
    // Real schemas have triggers and foreign keys: such a table is undone change by change.
    const client = (sql: string) => () =>
      run('mariadb', [...workload.mysqlArgs, 'sbtest', '-e', sql]).then(() => undefined);
    for (const salvage of contenders.slice(1).filter((c) => !c.name.includes('server'))) {
      const args = [...salvage.args];
      const out = args.indexOf('--out') + 1;
      args[out] = (args[out] as string).replace(/\.sql$/, '-trigger.sql');
      contenders.push({
        ...salvage,
        name: `${salvage.name.replace(' (conflict guard on)', '')}, sbtest1 with a trigger`,
        args,
        prepare: client('CREATE TRIGGER salvage_bench BEFORE UPDATE ON sbtest1 FOR EACH ROW SET @n = 1'),
        cleanup: client('DROP TRIGGER IF EXISTS salvage_bench'),
      });
    }
    const ticks = cpuTicks();
    const results = await compare(contenders, repetitions, log);
    const steal = stealBetween(ticks, cpuTicks());
    const report = describe(results, {
      bytes,
      transactions: range.length,
      rows: rowCount,
      repetitions,
      options: process.argv.slice(2).join(' '),
      byteRange: `${first.start}-${end}`,
      loadBefore,
      loadAfter: loadAverages(),
      steal,
    });
    process.stdout.write(`${report}\n`);
    if (!values['no-write']) await writeResultsSection(join(root, 'bench', 'RESULTS.md'), 'undo', report);
  } finally {
    await workload.close();
  }
}

/** One `--gtid first..last` when the range is one server's consecutive transactions (a long list overflows argv). */
function gtidArguments(gtids: readonly string[]): string[] {
  const parts = gtids.map((g) => /^(\d+-\d+)-(\d+)$/.exec(g));
  const consecutive = parts.every(
    (m, i) => m !== null && m[1] === parts[0]?.[1] && Number(m[2]) === Number(parts[0]?.[2]) + i,
  );
  if (consecutive && gtids.length > 1) return ['--gtid', `${gtids[0]}..${gtids.at(-1)}`];
  return gtids.flatMap((g) => ['--gtid', g]);
}

interface Context {
  readonly bytes: number;
  readonly transactions: number;
  readonly rows: number;
  readonly repetitions: number;
  /** The options run.sh was given, and the byte range flashback reads. */
  readonly options: string;
  readonly byteRange: string;
  readonly loadBefore: string;
  readonly loadAfter: string;
  /** The share of CPU time the hypervisor took during the timed runs. */
  readonly steal: string;
}

function describe(results: readonly Summary[], context: Context): string {
  const reference = results[0] as Summary;
  const salvage = results[1] as Summary;
  const ratio = reference.medianWallMs / salvage.medianWallMs;
  return [
    `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`bench/undo/run.sh ${context.options}\`: ` +
      `the last ${context.transactions} transactions (${context.rows} row changes) of a ` +
      `${(context.bytes / 2 ** 20).toFixed(0)} MB sysbench oltp_write_only binlog (byte range ${context.byteRange}). ` +
      'salvage reads the binlog files given the GTIDs, writes one guarded statement per row the range changed ' +
      '(from what the last change left back to what the row was before the first), checks every row against ' +
      'the live sandbox (conflict guard, `--on-conflict skip`) and writes the SQL (also timed reading the ' +
      'binlog from the sandbox over the replication protocol, the default without `--binlog`); `mariadb-binlog --flashback ' +
      '--start-position --stop-position` reads the same byte range and writes every row event reversed. ' +
      'The rows "with a trigger" time the same undo while sbtest1 (a quarter of the rows) has a trigger, which ' +
      'makes salvage undo that table change by change, newest first. ' +
      `${context.repetitions} interleaved repetitions.`,
    '',
    markdownTable(
      [
        'command',
        'median wall s',
        'min wall s',
        'median CPU s',
        'peak RSS MB',
        'speed vs flashback (wall)',
        'speed vs flashback (CPU)',
      ],
      results.map((r) => [
        `\`${r.name}\``,
        seconds(r.medianWallMs),
        seconds(r.minWallMs),
        seconds(r.medianCpuMs),
        mb(r.maxRssKb),
        `${(reference.medianWallMs / r.medianWallMs).toFixed(2)}×`,
        `${(reference.medianCpuMs / r.medianCpuMs).toFixed(2)}×`,
      ]),
    ),
    '',
    `- ${ratio >= 2 ? 'met' : 'NOT met'}: salvage undo ≥ 2× faster than mariadb-binlog --flashback`,
    '',
    `Load averages (1, 5, 15 min) on this 2-core machine, shared with other work: ${context.loadBefore} before, ` +
      `${context.loadAfter} after; CPU time taken by the hypervisor during the timed runs: ${context.steal}.`,
  ].join('\n');
}

await main();
