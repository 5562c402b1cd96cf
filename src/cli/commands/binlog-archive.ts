/** salvage binlog archive: copy a server's binary logs into a backup repository. */
import type { Command } from 'commander';
import type { ArchiveResult } from '../../backup/index.js';
import { describeTarget } from '../../mysql/index.js';
import { addConnectionOptions, type ConnectionFlags, connectTarget } from '../connection-options.js';
import { createOutput } from '../output.js';
import { globalOptions } from '../program.js';

interface ArchiveFlags extends ConnectionFlags {
  readonly source: string;
  readonly repo: string;
  readonly follow: boolean;
}

/**
 * Adds `archive` under the `binlog` group, creating the group when no other
 * command has yet (the group's other subcommands live in binlog.ts).
 */
export function registerBinlogArchive(program: Command): void {
  const group =
    program.commands.find((c) => c.name() === 'binlog') ??
    program.command('binlog').description('read, search and archive binary logs');
  const command = group
    .command('archive')
    .description(
      'copy binary logs into a repository over the replication protocol, resuming where the last run stopped',
    )
    .requiredOption('--source <dsn>', 'the server whose binary logs to archive, mysql://user@host:port')
    .requiredOption('--repo <url>', 'the repository, file:///absolute/path')
    .option('--follow', 'keep archiving new events until interrupted', false)
    .action(async (flags: ArchiveFlags, self: Command) => {
      const out = createOutput(globalOptions(self).json);
      const source = connectTarget(flags.source, flags);
      const controller = new AbortController();
      const stop = (): void => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        // Loaded here: `binlog timeline` and `rows` share this group and need none of the backup module.
        const { archiveBinlogs } = await import('../../backup/index.js');
        const result = await archiveBinlogs({
          source,
          repo: flags.repo,
          follow: flags.follow,
          signal: controller.signal,
          onProgress: (p) => {
            if (p.kind === 'resume') out.note(`salvage: resuming at ${p.file}:${p.position}`);
            if (p.kind === 'file-complete')
              out.note(`salvage: archived ${p.file.file} (${p.file.size} bytes)`);
          },
        });
        printResult(describeTarget(source), result, out);
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
  addConnectionOptions(command);
}

function printResult(dsn: string, result: ArchiveResult, out: ReturnType<typeof createOutput>): void {
  out.document({
    source: dsn,
    archive: result.prefix,
    resumedFrom: result.resumedFrom ?? null,
    completed: result.completed,
    partial: result.partial ?? null,
    events: result.events,
    bytes: result.bytes,
  });
  out.line(
    `${dsn}: ${result.completed.length} file(s) completed, ${result.events} events (${result.bytes} bytes) stored.`,
  );
  for (const file of result.completed) {
    out.line(
      `  ${file.file}  ${file.size} bytes  ${file.firstGtid ?? '-'} .. ${file.lastGtid ?? '-'}  sha256 ${file.sha256}`,
    );
  }
  if (result.partial)
    out.line(`  ${result.partial.file}  in progress, archived to offset ${result.partial.end}`);
}
