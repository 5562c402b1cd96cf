/** salvage demo: a whole incident, from a bad migration to a verified recovery, on throwaway servers. */
import type { Command } from 'commander';
import { runDemo } from '../../demo/index.js';
import { renderMarkdown } from '../../incident/index.js';
import { createOutput } from '../output.js';
import { globalOptions } from '../program.js';

interface DemoFlags {
  readonly keep?: boolean;
  readonly dir?: string;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'run a bad migration on a sandbox shop and recover from it with salvage recover --strategy surgical',
    )
    .option(
      '--keep',
      'leave the sandboxes running afterwards (destroy them with `salvage sandbox destroy`)',
      false,
    )
    .option(
      '--dir <dir>',
      'where the incident, the backup repository and the sandboxes go (default a new temporary directory)',
    )
    .action(async (flags: DemoFlags, self: Command) => {
      const out = createOutput(globalOptions(self).json);
      const result = await runDemo({
        keep: flags.keep,
        workDir: flags.dir,
        onProgress: (message) => out.note(`salvage demo: ${message}`),
      });
      const { summary, document } = result.incident;
      out.document({
        ...document,
        demo: {
          seconds: result.seconds,
          work_dir: result.workDir,
          transactions: result.transactions,
          kept: result.kept,
        },
      });
      out.line(renderMarkdown(summary));
      out.line(`Demo finished in ${result.seconds.toFixed(1)} s.`);
      if (summary.report) out.line(`Report: ${summary.report.html} (Markdown: ${summary.report.markdown})`);
      out.line(
        result.kept
          ? `The sandboxes are still running: salvage sandbox list (base ${result.workDir}/sandboxes).`
          : 'Every sandbox the demo started has been destroyed.',
      );
      if (summary.status !== 'recovered') process.exitCode = 1;
    });
}
