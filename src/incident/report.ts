/**
 * The incident report in Markdown: what happened, what was done, what it
 * cost (RTO, RPO) and the proof (verification). Written for the person who
 * has to sign off the recovery, not for the tool.
 */
import { basename } from 'node:path';
import { describeTableImpact, type TableImpact } from '../impact/index.js';
import type { IncidentSummary } from './summary.js';

/** The report's sections as data: the Markdown and HTML renderings share it. */
export interface ReportSection {
  readonly title: string;
  readonly lines?: readonly string[];
  readonly table?: { readonly head: readonly string[]; readonly rows: readonly (readonly string[])[] };
}

export function reportSections(s: IncidentSummary): ReportSection[] {
  const sections: ReportSection[] = [];
  const impact = s.impact;
  const plan = s.plan;
  sections.push({
    title: 'Outcome',
    lines: [
      `Status: **${s.status}**`,
      `Source: ${s.source}`,
      `Strategy: ${s.strategy ?? 'not decided yet'}${plan ? ` (recommended: ${plan.recommended})` : ''}`,
      `Recovered data on: ${s.dsn ?? 'not yet'}`,
      `RTO (freeze → verified, measured): ${s.rto_s === null ? 'not finished' : seconds(s.rto_s)}`,
      `RPO (good writes lost): ${s.rpo ? loss(s.rpo) : 'not decided yet'}`,
    ],
  });
  if (impact) {
    const bad = impact.activity.bad;
    sections.push({
      title: 'The bad change',
      lines: [
        `Transactions: ${impact.gtids.join(', ')}`,
        ...bad.map(
          (b) => `${b.gtid} at ${when(b.ts)}: ${b.rows} rows in ${b.tables.join(', ') || 'no table'}`,
        ),
        `Rows changed: ${impact.rows}`,
        ...(impact.schema_changes.length > 0 ? [`Schema changes: ${impact.schema_changes.length}`] : []),
      ],
      table: {
        head: ['table', 'inserted', 'updated', 'deleted', 'columns changed'],
        rows: impact.tables.map((t) => [
          t.table,
          String(t.inserted),
          String(t.updated),
          String(t.deleted),
          describeTableImpact(t as unknown as TableImpact)
            .slice(1)
            .map((line) => line.trim())
            .join('; '),
        ]),
      },
    });
  }
  if (plan) {
    sections.push({
      title: 'Plan',
      lines: [`Recommended: **${plan.recommended}**, because ${plan.why}.`, `Chosen: **${plan.chosen}**.`],
      table: {
        head: [
          'strategy',
          'lost transactions',
          'lost rows',
          'lost seconds of writes',
          'kept transactions',
          'rows to review',
          'result',
          'how',
        ],
        rows: plan.options.map((o) => [
          o.feasible ? o.strategy : `${o.strategy} (not possible: ${o.blocked_by})`,
          String(o.lost.transactions),
          String(o.lost.rows),
          String(o.lost.seconds),
          String(o.kept.transactions),
          String(o.rows_to_review),
          o.result,
          o.summary,
        ]),
      },
    });
  }
  if (s.kept || s.lost) {
    sections.push({
      title: 'Lost and kept',
      lines: [
        `Lost: ${s.lost ? loss(s.lost) : '-'}`,
        `Kept after the bad change: ${s.kept ? `${s.kept.transactions} transactions, ${s.kept.rows} rows` : '-'}`,
      ],
    });
  }
  sections.push({
    title: 'Conflicts',
    lines:
      s.conflicts.rows === 0
        ? ['No later write touched a row the bad change touched.']
        : [
            `${s.conflicts.rows} rows the bad change touched were written again later; their current values were built on damaged data and need review:`,
            ...s.conflicts.sample.map((c) => `- ${describeConflict(c)}`),
          ],
  });
  if (s.verify) {
    const v = s.verify;
    sections.push({
      title: 'Verification',
      lines: [
        v.equal ? '**Passed.**' : '**Failed.**',
        `Tables compared with the source and equal: ${v.compared.length - v.differing.length} of ${v.compared.length}`,
        ...(v.differing.length > 0 ? [`Differing: ${v.differing.join(', ')}`] : []),
        `Foreign-key orphans: ${v.orphans}`,
        ...(v.check_errors.length > 0 ? [`CHECK TABLE errors: ${v.check_errors.join(', ')}`] : []),
        ...v.assertions.map(
          (a) => `Assertion ${a.passed ? 'passed' : `failed (${a.rows} rows)`}: ${a.statement}`,
        ),
        ...v.not_compared.map((t) => `Not compared: ${t.table} (${t.why})`),
      ],
    });
  }
  if (s.cutover)
    sections.push({ title: 'Cutover', lines: [...s.cutover.steps, `Rollback: ${s.cutover.rollback}`] });
  sections.push({
    title: 'Timeline',
    table: {
      head: ['step', 'status', 'started', 'ended', 'attempts'],
      rows: s.steps.map((t) => [
        t.step,
        t.error ? `${t.status}: ${t.error}` : t.status,
        t.started_at,
        t.ended_at ?? '',
        String(t.attempts || 1),
      ]),
    },
  });
  return sections;
}

export function renderMarkdown(s: IncidentSummary): string {
  const out = [`# Incident ${basename(s.dir)}`, ''];
  for (const section of reportSections(s)) {
    out.push(`## ${section.title}`, '');
    for (const line of section.lines ?? []) out.push(line.startsWith('- ') ? line : `- ${line}`);
    if (section.lines?.length) out.push('');
    if (section.table && section.table.rows.length > 0) {
      out.push(
        `| ${section.table.head.join(' | ')} |`,
        `|${section.table.head.map(() => ' --- |').join('')}`,
      );
      for (const row of section.table.rows) out.push(`| ${row.map(cell).join(' | ')} |`);
      out.push('');
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

export function loss(l: { transactions: number; rows: number; seconds: number }): string {
  return `${l.transactions} transactions, ${l.rows} rows, ${seconds(l.seconds)} of writes`;
}

export function seconds(s: number): string {
  return s < 120 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export function when(ts: number): string {
  return new Date(ts * 1000).toISOString().replace('.000Z', 'Z');
}

function describeConflict(conflict: unknown): string {
  const c = conflict as { table?: string; key?: unknown; later?: readonly string[] };
  return `${c.table}: ${JSON.stringify(c.key)} changed again by ${(c.later ?? []).join(', ')}`;
}
