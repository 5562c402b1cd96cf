/**
 * Restore benchmark (not a test). A sandbox "production" gets a sysbench
 * schema, a physical backup by `salvage backup create`, then a sysbench
 * oltp_write_only run until the binlog after the backup reaches --size-mb,
 * archived with `salvage binlog archive`. Then, on the same backup restored
 * twice with the same sandbox settings:
 *   (a) `salvage restore --into sandbox --json` (restore + replay; replay alone from its timings);
 *   (b) `mariadb-binlog --start-position=<backup's> FILES | mariadb` into the other copy;
 * CHECKSUM TABLE of every table on the source and both targets must be equal.
 * Also salvage's physical restore against plain mbstream + mariabackup --prepare + --copy-back.
 * Writes the "## restore" section of bench/RESULTS.md (unless --no-write).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { listBackups, openRepository, restoreBackup } from '../../src/backup/index.js';
import { createSandbox, type Sandbox } from '../../src/environment/index.js';
import { loadAverages, markdownTable, writeResultsSection } from '../binlog/measure.js';

const exec = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
/** The checkout root, from bench/data/restore-build/bench/restore/run.js. */
const root = resolve(here, '../../../../..');
const work = join(root, 'bench', 'data', 'restore');
const salvageEntry = join(root, 'bench', 'data', 'restore-build', 'bench', 'binlog', 'salvage.js');
const log = (text: string): void => {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);
};

interface Timed<T> {
  readonly seconds: number;
  readonly value: T;
}

async function timed<T>(fn: () => Promise<T>): Promise<Timed<T>> {
  const started = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - started) / 1000, value };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'size-mb': { type: 'string', default: '150' },
      tables: { type: 'string', default: '4' },
      'table-size': { type: 'string', default: '100000' },
      'no-write': { type: 'boolean', default: false },
    },
  });
  const targetBytes = Number(values['size-mb']) * 2 ** 20;
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const baseDir = join(work, 'home', 'sandboxes');
  // Every sandbox the benchmark makes (its own, and the CLI's) lives under bench/data/restore.
  const env: NodeJS.ProcessEnv = { ...process.env, SALVAGE_HOME: join(work, 'home') };
  delete env.SALVAGE_PASSWORD;
  delete env.MYSQL_PWD;
  const repoDir = join(work, 'repo');
  const repo = `file://${repoDir}`;
  const salvage = async (args: string[]): Promise<string> => {
    const { stdout } = await exec(process.execPath, [salvageEntry, ...args, '--ssl-mode', 'disabled'], {
      env,
      maxBuffer: 64 << 20,
    });
    return stdout;
  };
  const sandboxes: Sandbox[] = [];
  const loadBefore = loadAverages();
  try {
    const prod = await createSandbox({
      baseDir,
      name: 'production',
      // Durability costs the binlog nothing and the workload a lot of time on a shared disk.
      serverOptions: {
        innodb_buffer_pool_size: '256M',
        innodb_flush_log_at_trx_commit: 0,
        sync_binlog: 0,
        max_binlog_size: '64M',
      },
    });
    sandboxes.push(prod);
    const dsn = `mysql://root@127.0.0.1:${prod.port}`;
    const client = ['-h', '127.0.0.1', '-P', String(prod.port), '-u', 'root'];
    const sysbench = [
      'oltp_write_only',
      '--db-driver=mysql',
      '--mysql-host=127.0.0.1',
      `--mysql-port=${prod.port}`,
      '--mysql-user=root',
      '--mysql-db=sbtest',
      `--tables=${values.tables}`,
      `--table-size=${values['table-size']}`,
    ];
    log(`production on port ${prod.port}; sysbench prepare`);
    await exec('mariadb', [...client, '-e', 'CREATE DATABASE sbtest']);
    await exec('sysbench', [...sysbench, 'prepare'], { maxBuffer: 16 << 20 });
    log('salvage backup create --method physical');
    await salvage(['backup', 'create', '--source', dsn, '--repo', repo, '--method', 'physical', '--json']);
    const backup = (await listBackups(await openRepository(repo))).backups.at(-1);
    const point = backup?.consistentPoint.binlog;
    if (!backup || !point) throw new Error('the backup has no binlog coordinates');
    log(`backup ${backup.id} at ${point.file}:${point.position}`);

    const binlogDir = join(prod.dir, 'binlog');
    const after = async (): Promise<string[]> =>
      (await readdir(binlogDir)).filter((n) => /^binlog\.\d+$/.test(n) && n >= point.file).sort();
    const rangeBytes = async (): Promise<number> => {
      let total = 0;
      for (const name of await after()) total += (await stat(join(binlogDir, name))).size;
      return total - point.position;
    };
    for (let bytes = 0; bytes < targetBytes; bytes = await rangeBytes()) {
      await exec('sysbench', [...sysbench, '--threads=2', '--time=10', 'run'], { maxBuffer: 16 << 20 });
      log(`  binlog after the backup: ${((await rangeBytes()) / 2 ** 20).toFixed(0)} MB`);
    }
    await exec('mariadb', [...client, '-e', 'FLUSH BINARY LOGS']);
    const { stdout: lastGtid } = await exec('mariadb', [...client, '-N', '-e', 'SELECT @@gtid_binlog_pos']);
    const files = (await after()).slice(0, -1).map((n) => join(binlogDir, n));
    const bytes = await rangeBytes();
    const tables = Array.from({ length: Number(values.tables) }, (_, i) => `sbtest.sbtest${i + 1}`);
    const sourceSums = await checksums(prod.port, tables);
    log('salvage binlog archive');
    await salvage(['binlog', 'archive', '--source', dsn, '--repo', repo, '--json']);
    // The source is no longer needed: both targets read the binlog from files.
    await prod.stop();

    const salvageRestore = async (
      applier: string,
    ): Promise<{ report: SalvageReport; wall: number; sums: Sums }> => {
      const run = await timed(async () =>
        JSON.parse(
          await salvage([
            'restore',
            '--repo',
            repo,
            '--into',
            'sandbox',
            '--after',
            lastGtid.trim(),
            '--applier',
            applier,
            '--json',
          ]),
        ),
      );
      const report = run.value as SalvageReport;
      const sums = await checksums(Number(/:(\d+)$/.exec(report.dsn)?.[1]), tables);
      await exec(process.execPath, [salvageEntry, 'sandbox', 'destroy', report.sandbox], { env }).catch(
        () => undefined,
      );
      return { report, wall: run.seconds, sums };
    };
    log("(a) salvage restore --into sandbox (the sandbox's replication applier)");
    const a = await salvageRestore('auto');
    if (a.report.applier !== 'server')
      throw new Error(`salvage replayed with ${a.report.applier}, not the server's applier`);
    log('(a2) salvage restore --into sandbox --applier session');
    const a2 = await salvageRestore('session');
    const report = a.report;
    const aSums = a.sums;

    const pipeInto = async (relaxed: boolean): Promise<Timed<Map<string, string>>> => {
      const copy = await restoreBackup(repo, backup.id, { kind: 'sandbox', options: { baseDir } });
      if (copy.sandbox) sandboxes.push(copy.sandbox);
      const port = copy.sandbox?.port ?? 0;
      const to = `mariadb -h 127.0.0.1 -P ${port} -u root`;
      if (relaxed) await shell(`${to} -e 'SET GLOBAL innodb_flush_log_at_trx_commit = 0'`);
      const run = await timed(() =>
        shell(`mariadb-binlog --start-position=${point.position} ${files.map(quote).join(' ')} | ${to}`),
      );
      const sums = await checksums(port, tables);
      await copy.sandbox?.destroy();
      return { seconds: run.seconds, value: sums };
    };
    log('(b) the same backup restored again, then mariadb-binlog | mariadb');
    const pipe = await pipeInto(false);
    log('(c) once more, the pipe with the durability salvage uses on its sandbox');
    const relaxedPipe = await pipeInto(true);
    const bSums = pipe.value;

    log('plain physical restore: gunzip | mbstream -x, mariabackup --prepare, --copy-back');
    const plain = await plainPhysicalRestore(repoDir, backup.id, join(work, 'plain'));

    const identical =
      sameSums(sourceSums, aSums) &&
      sameSums(sourceSums, a2.sums) &&
      sameSums(sourceSums, bSums) &&
      sameSums(sourceSums, relaxedPipe.value);
    const text = describe({
      bytes,
      files: files.length,
      transactions: report.replayed,
      salvage: report.timings,
      session: a2.report.timings,
      pipe: pipe.seconds,
      relaxedPipe: relaxedPipe.seconds,
      plain,
      identical,
      sums: {
        source: sourceSums,
        salvage: aSums,
        salvageSession: a2.sums,
        pipe: bSums,
        relaxedPipe: relaxedPipe.value,
      },
      load: `${loadBefore} before, ${loadAverages()} after`,
      size: { tables: Number(values.tables), tableSize: Number(values['table-size']) },
    });
    process.stdout.write(`${text}\n`);
    if (!values['no-write']) await writeResultsSection(join(root, 'bench', 'RESULTS.md'), 'restore', text);
    if (!identical) process.exitCode = 1;
  } finally {
    for (const sandbox of sandboxes) await sandbox.destroy().catch(() => undefined);
  }
}

async function checksums(port: number, tables: readonly string[]): Promise<Map<string, string>> {
  const { stdout } = await exec('mariadb', [
    '-h',
    '127.0.0.1',
    '-P',
    String(port),
    '-u',
    'root',
    '-N',
    '-e',
    `CHECKSUM TABLE ${tables.join(', ')} EXTENDED`,
  ]);
  return new Map(
    stdout
      .trim()
      .split('\n')
      .map((line) => line.split('\t') as [string, string]),
  );
}

function sameSums(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size > 0 && [...a].every(([table, sum]) => b.get(table) === sum && sum !== 'NULL');
}

function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Runs a shell pipeline; fails (with its stderr) when any part fails. */
function shell(command: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', command], { stdio: ['ignore', 'ignore', 'pipe'] });
    let errors = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (errors.length < 4000) errors += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolvePromise() : reject(new Error(`${command}: ${errors}`))));
  });
}

interface PlainRestore {
  readonly extract: number;
  readonly prepare: number;
  readonly copyBack: number;
}

/** What a DBA does by hand with the same stored stream, into an empty data directory. */
async function plainPhysicalRestore(repoDir: string, id: string, dir: string): Promise<PlainRestore> {
  const stream = await findFile(join(repoDir), 'physical.xbstream.gz', id);
  const target = join(dir, 'backup');
  const datadir = join(dir, 'data');
  await mkdir(target, { recursive: true });
  const extract = await timed(() => shell(`gunzip -c ${quote(stream)} | mbstream -x -C ${quote(target)}`));
  const prepare = await timed(() =>
    exec('mariabackup', ['--no-defaults', '--prepare', `--target-dir=${target}`]),
  );
  const copyBack = await timed(() =>
    exec('mariabackup', ['--no-defaults', '--copy-back', `--target-dir=${target}`, `--datadir=${datadir}`]),
  );
  await rm(dir, { recursive: true, force: true });
  return { extract: extract.seconds, prepare: prepare.seconds, copyBack: copyBack.seconds };
}

async function findFile(dir: string, name: string, under: string): Promise<string> {
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath ?? dir, entry.name);
    if (entry.name === name && path.includes(under)) return path;
  }
  throw new Error(`${name} of backup ${under} not found under ${dir}`);
}

type Sums = Map<string, string>;

interface SalvageReport {
  readonly dsn: string;
  readonly sandbox: string;
  readonly replayed: number;
  readonly applier: string;
  readonly timings: { restore: number; replay: number; total: number };
}

interface Measured {
  readonly bytes: number;
  readonly files: number;
  readonly transactions: number;
  readonly salvage: { restore: number; replay: number; total: number };
  readonly session: { restore: number; replay: number; total: number };
  readonly pipe: number;
  readonly relaxedPipe: number;
  readonly plain: PlainRestore;
  readonly identical: boolean;
  readonly sums: Record<string, Map<string, string>>;
  readonly load: string;
  readonly size: { tables: number; tableSize: number };
}

function describe(m: Measured): string {
  const s = (n: number): string => n.toFixed(1);
  const rate = (seconds: number): string => (m.transactions / seconds).toFixed(0);
  const ratio = (seconds: number): string => `${(m.pipe / seconds).toFixed(2)}×`;
  const plainTotal = m.plain.extract + m.plain.prepare + m.plain.copyBack;
  const lines = [
    `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, load average ${m.load} on ${process.platform} with 2 shared cores. Every target is a MariaDB sandbox restored from the backup by restoreBackup, so all have the same settings: a buffer pool sized to the backup (128 MB here) and a 512 MB redo log. salvage turns per-commit redo flushes off on the sandbox it restores into while replaying.`,
    `Binlog after the backup: ${(m.bytes / 2 ** 20).toFixed(1)} MB in ${m.files} file(s), ${m.transactions} transactions of sysbench oltp_write_only (${m.size.tables} tables × ${m.size.tableSize} rows). Physical backup by salvage; both targets restored from it with the same sandbox settings.`,
    '',
    markdownTable(
      ['replay of the binlog range', 'seconds', 'transactions/s', 'vs pipe'],
      [
        ['`mariadb-binlog --start-position … \\| mariadb`', s(m.pipe), rate(m.pipe), '1.0×'],
        [
          'the same pipe, target at innodb_flush_log_at_trx_commit=0',
          s(m.relaxedPipe),
          rate(m.relaxedPipe),
          ratio(m.relaxedPipe),
        ],
        [
          "salvage replay, the sandbox's replication applier fed relay logs (`salvage restore --json` timings.replay)",
          s(m.salvage.replay),
          rate(m.salvage.replay),
          ratio(m.salvage.replay),
        ],
        [
          'salvage replay, `--applier session` (BINLOG statements, 32 queries in flight)',
          s(m.session.replay),
          rate(m.session.replay),
          ratio(m.session.replay),
        ],
        ['`salvage restore --into sandbox` total (restore + replay)', s(m.salvage.total), '', ''],
      ],
    ),
    '',
    markdownTable(
      ['physical restore of the same backup', 'seconds'],
      [
        ['salvage (verify, extract, prepare, sandbox started on it)', s(m.salvage.restore)],
        [
          `plain: gunzip \\| mbstream -x ${s(m.plain.extract)} + mariabackup --prepare ${s(m.plain.prepare)} + --copy-back ${s(m.plain.copyBack)} (server not started)`,
          s(plainTotal),
        ],
      ],
    ),
    '',
    `CHECKSUM TABLE … EXTENDED on the source, both salvage targets and both pipe targets: ${m.identical ? 'identical' : 'DIFFERENT'} (${[...(m.sums.source ?? [])].map(([t, c]) => `${t}=${c}`).join(', ')}).`,
  ];
  if (!m.identical) {
    for (const [name, sums] of Object.entries(m.sums))
      lines.push(`- ${name}: ${[...sums.values()].join(', ')}`);
  }
  return lines.join('\n');
}

await main();
