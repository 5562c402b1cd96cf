/** salvage report: an incident's report, in Markdown and as a self-contained HTML file. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { incidentDocument, readIncident, renderMarkdown, writeIncidentReport } from '../../incident/index.js';
import { createOutput } from '../output.js';
import { globalOptions } from '../program.js';

interface ReportFlags {
  readonly incident: string;
  readonly html?: string;
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('show an incident report (Markdown); --html writes it as one self-contained HTML file')
    .requiredOption('--incident <dir>', 'the incident directory')
    .option('--html <file>', 'also write the report as HTML to FILE')
    .action(async (flags: ReportFlags, self: Command) => {
      const out = createOutput(globalOptions(self).json);
      const dir = resolve(flags.incident);
      const summary = await readIncident(dir);
      const written =
        flags.html === undefined ? undefined : await writeIncidentReport(dir, resolve(flags.html));
      out.document({
        ...incidentDocument(summary),
        steps: summary.steps,
        impact: summary.impact,
        html: written?.html ?? null,
      });
      out.line(renderMarkdown(summary));
      if (written) out.note(`salvage: wrote ${written.html}`);
    });
}
