/**
 * A real-workload binlog: a sandbox MariaDB written to by sysbench
 * oltp_write_only until its binary log reaches the wanted size. The sandbox
 * dies with the benchmark process; `close()` destroys it explicitly.
 */
import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createSandbox, type Sandbox } from '../../src/environment/index.js';

const run = promisify(execFile);

export interface Workload {
  readonly sandbox: Sandbox;
  /** The closed binlog files sysbench wrote, in order: the first holds only the tables' initial load (prepare). */
  readonly files: readonly string[];
  readonly bytes: number;
  readonly mysqlArgs: readonly string[];
  close(): Promise<void>;
}

export interface WorkloadOptions {
  /** Where the sandbox lives (git-ignored bench/data/...). */
  readonly dataDir: string;
  /** Bytes of binlog the oltp_write_only run writes, after the initial load. */
  readonly targetBytes: number;
  readonly tables?: number;
  readonly tableSize?: number;
  readonly log: (text: string) => void;
}

export async function buildSysbenchWorkload(options: WorkloadOptions): Promise<Workload> {
  const sandbox = await createSandbox({
    baseDir: join(options.dataDir, 'sandboxes'),
    name: `bench-${process.pid}`,
    lifetime: 'process',
    // Durability costs nothing to the binlog's content and a lot of time on a shared disk.
    serverOptions: {
      innodb_buffer_pool_size: '256M',
      innodb_flush_log_at_trx_commit: 0,
      sync_binlog: 0,
      max_binlog_size: '1G',
    },
  });
  const close = async (): Promise<void> => sandbox.destroy();
  try {
    options.log(`sandbox ${sandbox.name} on port ${sandbox.port}`);
    const client = ['-h', '127.0.0.1', '-P', String(sandbox.port), '-u', 'root'];
    await run('mariadb', [...client, '-e', 'CREATE DATABASE sbtest']);
    const sysbench = [
      'oltp_write_only',
      '--db-driver=mysql',
      '--mysql-host=127.0.0.1',
      `--mysql-port=${sandbox.port}`,
      '--mysql-user=root',
      '--mysql-db=sbtest',
      `--tables=${options.tables ?? 4}`,
      `--table-size=${options.tableSize ?? 50_000}`,
    ];
    await run('sysbench', [...sysbench, 'prepare'], { maxBuffer: 16 << 20 });
    // The initial load gets its own file, so a range of the last file is oltp_write_only transactions only.
    await run('mariadb', [...client, '-e', 'FLUSH BINARY LOGS']);
    const binlogDir = join(sandbox.dir, 'binlog');
    const loaded = await binlogBytes(binlogDir);
    let bytes = 0;
    while (bytes < options.targetBytes) {
      await run('sysbench', [...sysbench, '--threads=2', '--time=20', 'run'], { maxBuffer: 16 << 20 });
      bytes = (await binlogBytes(binlogDir)) - loaded;
      options.log(
        `  binlog ${(bytes / 2 ** 20).toFixed(0)} MB of ${(options.targetBytes / 2 ** 20).toFixed(0)}`,
      );
    }
    // Closed files only: the reader and mariadb-binlog then see the same finished files.
    await run('mariadb', [...client, '-e', 'FLUSH BINARY LOGS']);
    await settle(client, options.log);
    const names = (await readdir(binlogDir)).filter((n) => /^binlog\.\d+$/.test(n)).sort();
    const files = names.slice(0, -1).map((n) => join(binlogDir, n));
    let total = 0;
    for (const file of files) total += (await stat(file)).size;
    return { sandbox, files, bytes: total, mysqlArgs: client, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Waits for the server to finish the work sysbench left it (purging old row
 * versions, flushing dirty pages), at most a minute: a server still busy on
 * the other core would slow the timed commands that query it, and not the
 * one that does not (mariadb-binlog).
 */
async function settle(client: readonly string[], log: (text: string) => void): Promise<void> {
  const query = async (sql: string): Promise<string> =>
    (await run('mariadb', [...client, '-N', '-B', '-e', sql])).stdout.trim();
  const started = Date.now();
  const saved = await query('SELECT @@GLOBAL.innodb_max_dirty_pages_pct');
  await query('SET GLOBAL innodb_max_dirty_pages_pct = 0');
  let state = '';
  try {
    while (Date.now() - started < 60_000) {
      const [history, dirty] = (
        await query(
          `SELECT (SELECT COUNT FROM information_schema.INNODB_METRICS WHERE NAME = 'trx_rseg_history_len'),
                  (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'INNODB_BUFFER_POOL_PAGES_DIRTY')`,
        )
      ).split('\t');
      state = `${history} row versions to purge, ${dirty} dirty pages`;
      if (Number(history) < 100 && Number(dirty) === 0) break;
      await new Promise((resume) => setTimeout(resume, 500));
    }
  } finally {
    await query(`SET GLOBAL innodb_max_dirty_pages_pct = ${Number(saved)}`);
  }
  log(`  server settled in ${((Date.now() - started) / 1000).toFixed(1)} s (${state})`);
}

async function binlogBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) {
    if (/^binlog\.\d+$/.test(name)) total += (await stat(join(dir, name))).size;
  }
  return total;
}
