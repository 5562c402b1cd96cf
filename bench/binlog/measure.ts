/**
 * Timing for the benchmarks: each command runs under /usr/bin/time (wall,
 * CPU and peak RSS) with stdout to /dev/null, the commands of one comparison
 * interleaved repetition by repetition so that load from other work on the
 * machine falls on all of them alike; medians are what we report.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Contender {
  readonly name: string;
  readonly program: string;
  readonly args: readonly string[];
  /** Run before and after each timed run, untimed (a schema change the contender needs, say). */
  readonly prepare?: () => Promise<void>;
  readonly cleanup?: () => Promise<void>;
}

export interface Sample {
  readonly wallMs: number;
  /** User + system CPU time: steadier than wall time on a loaded machine. */
  readonly cpuMs: number;
  readonly maxRssKb: number;
}

export interface Summary {
  readonly name: string;
  readonly samples: readonly Sample[];
  readonly medianWallMs: number;
  readonly minWallMs: number;
  readonly medianCpuMs: number;
  readonly maxRssKb: number;
}

/** Runs one command with stdout discarded; a non-zero exit is an error carrying its stderr. */
export async function timeOnce(contender: Contender): Promise<Sample> {
  const dir = await mkdtemp(join(tmpdir(), 'salvage-bench-'));
  const report = join(dir, 'time');
  const devNull = await open('/dev/null', 'w');
  try {
    const started = process.hrtime.bigint();
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        '/usr/bin/time',
        ['-o', report, '-f', '%U %S %M', contender.program, ...contender.args],
        { stdio: ['ignore', devNull.fd, 'pipe'] },
      );
      let text = '';
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        if (text.length < 4000) text += chunk;
      });
      child.on('error', reject);
      child.on('close', (code) => {
        if (code === 0) resolve();
        else reject(new Error(`${contender.name} exited with ${code}: ${text.trim()}`));
      });
    });
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    const line = (await readFile(report, 'utf8')).trim().split('\n').at(-1) ?? '';
    const [user, system, rss] = line.split(' ').map(Number);
    if (rss === undefined || Number.isNaN(rss)) throw new Error(`cannot read /usr/bin/time output: ${line}`);
    return { wallMs, cpuMs: ((user ?? 0) + (system ?? 0)) * 1000, maxRssKb: rss };
  } finally {
    await devNull.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every contender `repetitions` times, interleaved, the order rotating each round. */
export async function compare(
  contenders: readonly Contender[],
  repetitions: number,
  log: (text: string) => void,
): Promise<Summary[]> {
  const samples = contenders.map(() => [] as Sample[]);
  for (let round = 0; round < repetitions; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const index = (round + k) % contenders.length;
      const contender = contenders[index] as Contender;
      await contender.prepare?.();
      const sample = await timeOnce(contender).finally(() => contender.cleanup?.());
      (samples[index] as Sample[]).push(sample);
      log(
        `  round ${round + 1}/${repetitions} ${contender.name}: ${seconds(sample.wallMs)} s wall, ${seconds(sample.cpuMs)} s cpu, ${mb(sample.maxRssKb)} MB`,
      );
    }
  }
  return contenders.map((c, i) => summarize(c.name, samples[i] as Sample[]));
}

function summarize(name: string, samples: readonly Sample[]): Summary {
  return {
    name,
    samples,
    medianWallMs: median(samples.map((s) => s.wallMs)),
    minWallMs: Math.min(...samples.map((s) => s.wallMs)),
    medianCpuMs: median(samples.map((s) => s.cpuMs)),
    maxRssKb: Math.max(...samples.map((s) => s.maxRssKb)),
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export const seconds = (ms: number): string => (ms / 1000).toFixed(2);
export const mb = (kb: number): string => (kb / 1024).toFixed(0);

/** The machine's load averages, for the record: timings on a loaded machine say so. */
export function loadAverages(): string {
  return loadavg()
    .map((n) => n.toFixed(2))
    .join(', ');
}

/** The machine's CPU tick counters (/proc/stat): all of them, and those the hypervisor took (steal). */
export interface CpuTicks {
  readonly total: number;
  readonly steal: number;
}

export function cpuTicks(): CpuTicks {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    // user nice system idle iowait irq softirq steal (guest time is counted in user already).
    const counted = fields.slice(0, 8);
    return { total: counted.reduce((a, b) => a + b, 0), steal: counted[7] ?? 0 };
  } catch {
    return { total: 0, steal: 0 };
  }
}

/** The share of CPU time the hypervisor took between two readings, as text; a two-core virtual machine loses it to its neighbours. */
export function stealBetween(before: CpuTicks, after: CpuTicks): string {
  const total = after.total - before.total;
  return total > 0 ? `${((100 * (after.steal - before.steal)) / total).toFixed(1)} %` : 'unknown';
}

/** A Markdown table from a header row and data rows. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/**
 * Replaces the `## <name>` section of RESULTS.md (up to the next `## `
 * heading) or appends it, leaving the other sections as they are: the file
 * is shared with other benchmarks, so it is read right before it is written.
 */
/** Below this line a section's notes (findings, history) are written by hand and survive a rerun. */
export const NOTES_MARKER = '<!-- notes below are kept when the benchmark runs again -->';

/**
 * Replaces the measured part of section `## name` of the results file (or
 * appends the section), keeping the notes under its NOTES_MARKER.
 */
export async function writeResultsSection(file: string, name: string, body: string): Promise<void> {
  const text = await readFile(file, 'utf8').catch(() => '# Benchmark results\n');
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === `## ${name}`);
  const section = [`## ${name}`, '', ...body.trimEnd().split('\n'), '', NOTES_MARKER];
  if (start < 0) {
    const trimmed = text.trimEnd();
    await writeFile(file, `${trimmed}\n\n${section.join('\n')}\n`);
    return;
  }
  let end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  if (end < 0) end = lines.length;
  const marker = lines.findIndex((l, i) => i > start && i < end && l.trim() === NOTES_MARKER);
  const notes = marker < 0 ? [''] : lines.slice(marker + 1, end);
  const next = [...lines.slice(0, start), ...section, ...notes, ...lines.slice(end)];
  await writeFile(file, `${next.join('\n').trimEnd()}\n`);
}

/** Runs a node script and hands each line of its stdout to `onLine`, without holding the output. */
export function eachLine(args: readonly string[], onLine: (line: string) => void): Promise<void> {
  return new Promise((resolveDone, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let rest = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (rest.length > 0) onLine(rest);
      if (code === 0) resolveDone();
      else reject(new Error(`${args.slice(1, 3).join(' ')} exited with ${code}`));
    });
  });
}
