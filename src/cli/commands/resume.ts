/** salvage resume: continue an incident after a crash, a kill or a failed step. */
import type { Command } from 'commander';
import { resume } from '../../incident/index.js';
import { createOutput } from '../output.js';
import { globalOptions } from '../program.js';
import { printOutcome } from './recover.js';

interface ResumeFlags {
  readonly incident: string;
  readonly yes?: boolean;
}

export function registerResume(program: Command): void {
  program
    .command('resume')
    .description('continue an incident from its journal, re-running the step that was interrupted')
    .requiredOption('--incident <dir>', 'the incident directory recover created')
    .option('--yes', 'carry out the plan when the incident stopped there', false)
    .action(async (flags: ResumeFlags, self: Command) => {
      const out = createOutput(globalOptions(self).json);
      const outcome = await resume({
        incidentDir: flags.incident,
        yes: flags.yes,
        onProgress: (message) => out.note(`salvage: ${message}`),
      });
      printOutcome(out, outcome);
    });
}
