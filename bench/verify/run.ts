/**
 * Benchmark (not a test): `salvage verify` against CHECKSUM TABLE (and
 * pt-table-checksum when installed) on a few-million-row table loaded into two
 * sandboxes. Appends (or replaces) the "## verify" section of bench/RESULTS.md.
 *
 *   bash bench/verify/run.sh            # BENCH_ROWS=2000000 by default
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { createSandbox, type Sandbox } from '../../src/environment/index.js';
import { parseDsn, resolveTarget } from '../../src/mysql/index.js';
import { verifyServers } from '../../src/verify/index.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 2_000_000);
const RESULTS = process.env.BENCH_RESULTS ?? join(process.cwd(), 'bench', 'RESULTS.md');

async function run(sandbox: Sandbox, sql: string): Promise<unknown[]> {
  const conn = await mysql.createConnection({
    host: '127.0.0.1',
    port: sandbox.port,
    user: 'root',
    multipleStatements: true,
  });
  try {
    const [rows] = await conn.query(sql);
    return rows as unknown[];
  } finally {
    await conn.end();
  }
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const began = performance.now();
  const value = await fn();
  return { ms: Math.round(performance.now() - began), value };
}

const LOAD = `
CREATE DATABASE bench;
USE bench;
CREATE TABLE events (
  id BIGINT PRIMARY KEY,
  account INT NOT NULL,
  kind VARCHAR(20) NOT NULL,
  amount DECIMAL(12,2) NOT NULL,
  note VARCHAR(100) NULL,
  score DOUBLE NULL,
  created DATETIME NOT NULL,
  KEY (account)
) ENGINE=InnoDB;
INSERT INTO events
SELECT seq, seq % 50000, ELT(1 + seq % 4, 'deposit', 'withdrawal', 'fee', 'refund'), (seq % 100000) / 100,
       IF(seq % 10 = 0, NULL, CONCAT('note for event ', seq)), IF(seq % 7 = 0, NULL, seq / 13),
       '2024-01-01' + INTERVAL (seq % 31536000) SECOND
  FROM seq_1_to_${ROWS};
ANALYZE TABLE events;
`;

function ptTableChecksum(sandbox: Sandbox): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(
      'pt-table-checksum',
      [
        `h=127.0.0.1,P=${sandbox.port},u=root`,
        '--databases=bench',
        '--recursion-method=none',
        '--no-check-binlog-format',
        '--no-check-replication-filters',
      ],
      { maxBuffer: 10 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({ ok: !error || (error.code as number) < 32, output: `${stdout}${stderr}` }),
    );
  });
}

function hasPtTableChecksum(): Promise<boolean> {
  return new Promise((resolve) => execFile('pt-table-checksum', ['--version'], (error) => resolve(!error)));
}

async function main(): Promise<void> {
  const baseDir = join(tmpdir(), 'salvage-bench-verify');
  const options = {
    baseDir,
    binlog: false,
    lifetime: 'process' as const,
    serverOptions: { innodb_buffer_pool_size: '1G' },
  };
  const [a, b] = await Promise.all([createSandbox(options), createSandbox(options)]);
  try {
    process.stderr.write(`loading ${ROWS} rows into two sandboxes...\n`);
    const load = await timed(() => Promise.all([run(a, LOAD), run(b, LOAD)]));
    process.stderr.write(`loaded in ${load.ms} ms\n`);
    // Warm both buffer pools the same way so no contender pays for the first read.
    await Promise.all([run(a, 'CHECKSUM TABLE bench.events'), run(b, 'CHECKSUM TABLE bench.events')]);

    const source = resolveTarget(parseDsn(a.dsn), { env: {} });
    const target = resolveTarget(parseDsn(b.dsn), { env: {} });
    const results: [string, number, string][] = [];

    const checksumBoth = await timed(() =>
      Promise.all([run(a, 'CHECKSUM TABLE bench.events'), run(b, 'CHECKSUM TABLE bench.events')]),
    );
    results.push([
      'CHECKSUM TABLE, both servers at once',
      checksumBoth.ms,
      'one number per table: no localization',
    ]);
    const checksumOne = await timed(() => run(a, 'CHECKSUM TABLE bench.events'));
    results.push(['CHECKSUM TABLE, one server', checksumOne.ms, '']);

    const fast = await timed(() => verifyServers({ source, target, checkTables: false }));
    results.push([
      'salvage verify --no-check-table (equal: settled by CHECKSUM TABLE on both, same version)',
      fast.ms,
      `${fast.value.tables[0]!.chunk_method}, ${fast.value.tables[0]!.status}`,
    ]);
    for (const parallel of [1, 2]) {
      const verify = await timed(() =>
        verifyServers({ source, target, parallel, checkTables: false, checksumTable: false }),
      );
      const table = verify.value.tables[0]!;
      results.push([
        `salvage verify --no-checksum-table --parallel ${parallel} --no-check-table (every chunk hashed)`,
        verify.ms,
        `${table.chunks} chunks, ${table.status}`,
      ]);
    }
    const withCheck = await timed(() => verifyServers({ source, target }));
    results.push([
      'salvage verify (defaults, with CHECK TABLE on the target)',
      withCheck.ms,
      `equal=${withCheck.value.equal}`,
    ]);

    await run(b, `UPDATE bench.events SET amount = amount + 0.01 WHERE id = ${Math.floor(ROWS * 0.77)}`);
    const differing = await timed(() => verifyServers({ source, target, checkTables: false }));
    const table = differing.value.tables[0]!;
    results.push([
      'salvage verify --no-check-table, one row changed on the target',
      differing.ms,
      `${table.chunks_differing} of ${table.chunks} chunks differ; sample key ${JSON.stringify(table.sample_keys[0]?.key)}`,
    ]);

    let ptNote = 'percona-toolkit is not installed (apt-get install -y percona-toolkit)';
    if (await hasPtTableChecksum()) {
      const pt = await timed(() => Promise.all([ptTableChecksum(a), ptTableChecksum(b)]));
      results.push([
        'pt-table-checksum, both servers at once (no replicas: each only checksums itself)',
        pt.ms,
        pt.value.every((r) => r.ok)
          ? 'chunks of ~0.5 s; comparing needs replication'
          : `failed: ${pt.value[0]!.output.slice(-200)}`,
      ]);
      ptNote = '';
    }
    await writeSection(results, ptNote, load.ms);
  } finally {
    await Promise.all([a.destroy(), b.destroy()]);
  }
}

async function writeSection(
  results: readonly [string, number, string][],
  ptNote: string,
  loadMs: number,
): Promise<void> {
  const lines = [
    '## verify',
    '',
    `${ROWS.toLocaleString('en-US')} rows in one InnoDB table (BIGINT key, 7 columns incl. DOUBLE, DECIMAL, nullable VARCHAR) loaded into two`,
    `MariaDB sandboxes on the same machine (${cpus().length} cores, shared by both servers and the client; buffer pool 1G, warm).`,
    `Loading took ${(loadMs / 1000).toFixed(1)} s. Run: \`bash bench/verify/run.sh\` (BENCH_ROWS to change the size).`,
    '',
    '| what | time (ms) | notes |',
    '| --- | ---: | --- |',
    ...results.map(([what, ms, notes]) => `| ${what} | ${ms} | ${notes} |`),
    '',
    ...(ptNote ? [`pt-table-checksum: ${ptNote}.`, ''] : []),
    'Reading: when both servers run the same flavor and version, verify settles an equal table with the',
    "servers' own CHECKSUM TABLE (plus COUNT(*) for the row counts), so proving equality costs about what",
    'CHECKSUM TABLE costs. Only a table whose checksum differs is read chunk by chunk (CRC32 of each row',
    'rendered type-exactly, summed per primary-key range, both servers in parallel) and narrowed to the',
    'differing chunk and key. Hashing rows in SQL costs several times what the native CHECKSUM TABLE',
    'does per row, so localizing a difference takes roughly as long as pt-table-checksum, which on its own',
    'only checksums each server and needs replication to compare them. Between servers of different',
    'flavors or versions every table takes the chunked path, with doubles rendered exactly (slower again).',
    '',
  ];
  let text = '';
  try {
    text = await readFile(RESULTS, 'utf8');
  } catch {
    text = '# Benchmarks\n\n';
  }
  // Replace only our own section; the other sections belong to other benchmarks.
  const start = text.indexOf('## verify\n');
  if (start >= 0) {
    const next = text.indexOf('\n## ', start + 1);
    text = text.slice(0, start) + lines.join('\n') + (next >= 0 ? text.slice(next + 1) : '');
  } else {
    text = `${text.replace(/\n*$/, '\n\n')}${lines.join('\n')}`;
  }
  await writeFile(RESULTS, text);
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
