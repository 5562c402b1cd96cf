/** salvage backup create|list|verify: backups in a repository, and proof that they restore. */
import { type Command, Option } from 'commander';
import {
  BACKUP_METHODS,
  type BackupManifest,
  type BackupMethod,
  type BackupVerification,
  createBackup,
  listBackups,
  openRepository,
  verifyBackup,
} from '../../backup/index.js';
import { SalvageError } from '../../errors.js';
import { addConnectionOptions, type ConnectionFlags, connectTarget } from '../connection-options.js';
import { createOutput, type Output } from '../output.js';
import { globalOptions } from '../program.js';

interface CreateFlags extends ConnectionFlags {
  readonly source: string;
  readonly repo: string;
  readonly method: BackupMethod;
  readonly workers?: number;
}

export function registerBackup(program: Command): void {
  const backup = program.command('backup').description('take, list and verify backups in a repository');

  const create = backup
    .command('create')
    .description('take a physical (mariabackup/xtrabackup) or logical backup of a server into a repository')
    .requiredOption('--source <dsn>', 'the server to back up, mysql://user@host:port')
    .requiredOption('--repo <url>', 'the repository, file:///path (created on first use)')
    .addOption(
      new Option(
        '--method <method>',
        'physical copies the data directory (on the server host); logical dumps over SQL',
      )
        .choices(BACKUP_METHODS)
        .default('physical'),
    )
    .addOption(
      new Option('--workers <n>', 'logical: tables dumped at a time (default 4)').argParser(parseWorkers),
    )
    .action(async (flags: CreateFlags, self: Command) => {
      const out = createOutput(globalOptions(self).json);
      const manifest = await createBackup({
        source: connectTarget(flags.source, flags),
        repo: flags.repo,
        method: flags.method,
        workers: flags.workers,
        onProgress: (event) => {
          if (event.kind === 'started') out.note(`salvage: ${event.method} backup ${event.id} started`);
        },
      });
      out.document(manifest);
      out.line(`Backup ${manifest.id} complete: ${describeBackup(manifest)}`);
      for (const warning of manifest.warnings) out.note(`salvage: warning: ${warning}`);
    });
  addConnectionOptions(create);

  backup
    .command('list')
    .description('list the complete backups of a repository, and report incomplete ones')
    .requiredOption('--repo <url>', 'the repository, file:///path')
    .action(async (flags: { repo: string }, self: Command) => {
      const out = createOutput(globalOptions(self).json);
      const listing = await listBackups(await openRepository(flags.repo));
      out.document(listing);
      if (listing.backups.length === 0) out.line('No complete backups.');
      for (const manifest of listing.backups) out.line(`${manifest.id}  ${describeBackup(manifest)}`);
      for (const partial of listing.incomplete) {
        const who = partial.pid === undefined ? '' : ` (process ${partial.pid} on ${partial.host})`;
        out.note(`salvage: ${partial.id} is incomplete: ${partial.state}${who}; it is not usable.`);
      }
    });

  backup
    .command('verify')
    .description('re-hash every file of a backup; --restore-test also restores it into a throwaway sandbox')
    .argument('<id>', 'the backup id (see backup list)')
    .requiredOption('--repo <url>', 'the repository, file:///path')
    .option(
      '--restore-test',
      'restore into a new sandbox, check it starts and every table passes CHECK TABLE',
      false,
    )
    .action(async (id: string, flags: { repo: string; restoreTest: boolean }, self: Command) => {
      const out = createOutput(globalOptions(self).json);
      const result = await verifyBackup(flags.repo, id, { restoreTest: flags.restoreTest });
      printVerification(out, result);
      if (!result.ok) process.exitCode = 1;
    });
}

function describeBackup(manifest: BackupManifest): string {
  const point = manifest.consistentPoint;
  const where =
    point.binlog === null ? 'no binlog position' : `${point.binlog.file}:${point.binlog.position}`;
  const gtid = point.gtid === null ? '' : ` gtid ${point.gtid}`;
  return `${manifest.method}, ${manifest.server.flavor} ${manifest.server.version} ${manifest.server.hostname}:${manifest.server.port}, at ${where}${gtid}, ${manifest.files.length} files, ${manifest.totalSize} bytes, finished ${manifest.finishedAt}`;
}

function printVerification(out: Output, result: BackupVerification): void {
  out.document({
    id: result.backup.id,
    ok: result.ok,
    files: result.files,
    restoreTest: result.restoreTest ?? null,
  });
  for (const file of result.files.filter((f) => !f.ok)) {
    out.line(`DAMAGED  ${file.path}: sha256 ${file.sha256 || '(missing)'}, expected ${file.expectedSha256}`);
  }
  const intact = result.files.filter((f) => f.ok).length;
  out.line(`${intact} of ${result.files.length} files match the manifest.`);
  const test = result.restoreTest;
  if (test !== undefined) {
    for (const failure of test.failures) out.line(`FAILED   ${failure}`);
    out.line(
      `Restore test: ${test.ok ? 'passed' : 'FAILED'}, ${test.tables} tables checked in ${test.seconds} s.`,
    );
  }
  out.line(result.ok ? `Backup ${result.backup.id} is good.` : `Backup ${result.backup.id} is NOT usable.`);
}

function parseWorkers(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 64) {
    throw new SalvageError('USAGE', `--workers ${text} is not a number from 1 to 64.`);
  }
  return value;
}
