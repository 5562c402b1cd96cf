/**
 * The report files of an incident: report.md and report.html beside the
 * journal, each written whole or not at all.
 */
import { join } from 'node:path';
import { writeFileAtomically } from '../undo/index.js';
import { journalPath } from './incident.js';
import { readJournal } from './journal.js';
import { renderMarkdown } from './report.js';
import { renderHtml } from './report-html.js';
import { type IncidentSummary, summarizeIncident } from './summary.js';

export async function readIncident(dir: string): Promise<IncidentSummary> {
  const { entries } = await readJournal(journalPath(dir));
  return summarizeIncident(dir, entries);
}

/** Renders the incident as it stands and writes both files; returns their paths. */
export async function writeIncidentReport(dir: string, htmlPath = join(dir, 'report.html')) {
  const summary = await readIncident(dir);
  const markdown = join(dir, 'report.md');
  await writeFileAtomically(markdown, renderMarkdown(summary));
  await writeFileAtomically(htmlPath, renderHtml(summary));
  return { markdown, html: htmlPath };
}
