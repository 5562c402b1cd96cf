/**
 * Binlog reader benchmark: on one sysbench oltp_write_only binlog, in the
 * same run and interleaved, mariadb-binlog (rows decoded to pseudo-SQL)
 * against `salvage binlog timeline --json` and `salvage binlog rows --json`.
 * Usage (through run.sh): [--size-mb N] [--repetitions N] [--reuse] [--no-write]
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readBinlogFiles } from '../../src/binlog/index.js';
import {
  type Contender,
  compare,
  eachLine,
  loadAverages,
  markdownTable,
  mb,
  type Summary,
  seconds,
  writeResultsSection,
} from './measure.js';
import { buildSysbenchWorkload } from './workload.js';

/** The checkout root, from bench/data/build/bench/binlog/run.js or bench/binlog/run.ts. */
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, here.includes(`${join('bench', 'data')}`) ? '../../../../..' : '../..');
const dataDir = join(root, 'bench', 'data');
const keptDir = join(dataDir, 'binlog', 'latest');
/** The CLI entry compiled beside this file (run.sh builds both). */
const salvageEntry = join(here, 'salvage.js');

const log = (text: string): void => {
  process.stderr.write(`${text}\n`);
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'size-mb': { type: 'string', default: '300' },
      repetitions: { type: 'string', default: '5' },
      reuse: { type: 'boolean', default: false },
      'no-write': { type: 'boolean', default: false },
    },
  });
  const targetBytes = Number(values['size-mb']) * 2 ** 20;
  const repetitions = Number(values.repetitions);
  const loadBefore = loadAverages();
  const files = values.reuse ? await keptFiles() : await generate(targetBytes);
  let bytes = 0;
  for (const file of files) bytes += (await stat(file)).size;
  log(`binlog: ${files.length} file(s), ${(bytes / 2 ** 20).toFixed(1)} MB`);

  const counts = await countContent(files);
  log(
    `${counts.events} events, ${counts.transactions} transactions, ${counts.rows} row changes (timeline sum ${counts.timelineRows})`,
  );
  if (counts.rows !== counts.timelineRows) {
    throw new Error(
      `rows printed ${counts.rows} differ from the timeline's row counts ${counts.timelineRows}`,
    );
  }

  const node = process.execPath;
  const contenders: Contender[] = [
    {
      name: 'mariadb-binlog --base64-output=decode-rows -v',
      program: 'mariadb-binlog',
      args: ['--base64-output=decode-rows', '-v', ...files],
    },
    {
      name: 'salvage binlog timeline --json',
      program: node,
      args: [salvageEntry, 'binlog', 'timeline', '--json', ...files],
    },
    {
      name: 'salvage binlog rows --json',
      program: node,
      args: [salvageEntry, 'binlog', 'rows', '--json', ...files],
    },
  ];
  const results = await compare(contenders, repetitions, log);
  const loadAfter = loadAverages();
  const report = describe(results, {
    bytes,
    files: files.length,
    counts,
    repetitions,
    loadBefore,
    loadAfter,
  });
  process.stdout.write(`${report}\n`);
  if (!values['no-write']) await writeResultsSection(join(root, 'bench', 'RESULTS.md'), 'binlog', report);
}

/** A fresh sysbench binlog; the files are kept under bench/data/binlog/latest for --reuse. */
async function generate(targetBytes: number): Promise<string[]> {
  const workload = await buildSysbenchWorkload({ dataDir, targetBytes, log });
  try {
    await rm(keptDir, { recursive: true, force: true });
    await mkdir(keptDir, { recursive: true });
    const kept: string[] = [];
    for (const file of workload.files) {
      const target = join(keptDir, file.split('/').at(-1) as string);
      await rename(file, target);
      kept.push(target);
    }
    return kept;
  } finally {
    await workload.close();
  }
}

async function keptFiles(): Promise<string[]> {
  const names = (await readdir(keptDir).catch(() => [])).filter((n) => /\.\d+$/.test(n)).sort();
  if (names.length === 0) throw new Error(`--reuse: no binlog kept in ${keptDir}; run without --reuse first`);
  return names.map((n) => join(keptDir, n));
}

interface Counts {
  readonly events: number;
  readonly transactions: number;
  readonly rows: number;
  readonly timelineRows: number;
}

/** What the files hold, counted once (untimed), with a cross-check of timeline against rows. */
async function countContent(files: readonly string[]): Promise<Counts> {
  let events = 0;
  for await (const _ of readBinlogFiles({ files })) events++;
  let transactions = 0;
  let timelineRows = 0;
  await eachLine([salvageEntry, 'binlog', 'timeline', '--json', ...files], (line) => {
    transactions++;
    const tx = JSON.parse(line) as {
      rows: Record<string, { insert: number; update: number; delete: number }>;
    };
    for (const c of Object.values(tx.rows)) timelineRows += c.insert + c.update + c.delete;
  });
  let rows = 0;
  await eachLine([salvageEntry, 'binlog', 'rows', '--json', ...files], () => {
    rows++;
  });
  return { events, transactions, rows, timelineRows };
}

interface Context {
  readonly bytes: number;
  readonly files: number;
  readonly counts: Counts;
  readonly repetitions: number;
  readonly loadBefore: string;
  readonly loadAfter: string;
}

function describe(results: readonly Summary[], context: Context): string {
  const reference = results[0] as Summary;
  const rows = results.map((r) => [
    `\`${r.name}\``,
    seconds(r.medianWallMs),
    seconds(r.minWallMs),
    seconds(r.medianCpuMs),
    mb(r.maxRssKb),
    r === reference ? '1.00×' : `${(reference.medianWallMs / r.medianWallMs).toFixed(2)}×`,
  ]);
  const { counts } = context;
  const timeline = results[1] as Summary;
  const rowsResult = results[2] as Summary;
  const goals = [
    goal('timeline ≥ 3× faster than mariadb-binlog', reference.medianWallMs / timeline.medianWallMs >= 3),
    goal('rows at least as fast as mariadb-binlog', reference.medianWallMs / rowsResult.medianWallMs >= 1),
    goal('peak RSS < 256 MB', timeline.maxRssKb < 256 * 1024 && rowsResult.maxRssKb < 256 * 1024),
  ];
  return [
    `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`bench/binlog/run.sh\`: ` +
      `${(context.bytes / 2 ** 20).toFixed(1)} MB of binlog in ${context.files} file(s) from sysbench ` +
      `oltp_write_only (MariaDB, ROW, FULL image, CRC32), ` +
      `${counts.events} events, ${counts.transactions} transactions, ${counts.rows} row changes. ` +
      `Output to /dev/null; ${context.repetitions} interleaved repetitions each; Node ${process.version}; ` +
      `${execFileSync('mariadb-binlog', ['--version'], { encoding: 'utf8' }).trim()}.`,
    '',
    markdownTable(
      ['command', 'median wall s', 'min wall s', 'median CPU s', 'peak RSS MB', 'speed vs mariadb-binlog'],
      rows,
    ),
    '',
    ...goals,
    '',
    `Load averages (1, 5, 15 min) on this 2-core machine, shared with other work: ${context.loadBefore} before, ` +
      `${context.loadAfter} after. Wall times are noisy under that load; CPU times are steadier.`,
  ].join('\n');
}

function goal(text: string, met: boolean): string {
  return `- ${met ? 'met' : 'NOT met'}: ${text}`;
}

await main();
