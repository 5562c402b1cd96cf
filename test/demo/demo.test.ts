/**
 * `salvage demo` as a user runs it: a real process that recovers a bad
 * migration end to end in under a minute, says where its report is, and
 * leaves no server of its own running.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { incidentSandboxName } from '../../src/incident/index.js';
import { salvage, serversMentioning, TEST_BASE } from '../incident/support.js';

let work: string | undefined;
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('salvage demo', () => {
  // Its speed (under a minute on an idle machine) is measured in bench/RESULTS.md, not asserted here.
  it('recovers the bad migration surgically and leaves nothing running', {
    timeout: 300_000,
  }, async () => {
    work = await mkdtemp(join(tmpdir(), 'salvage-demo-test-'));
    const incident = join(work, 'incident');
    const result = await salvage(['demo', '--dir', work]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Status: **recovered**');
    expect(result.stdout).toContain(`Report: ${join(incident, 'report.html')}`);
    expect(result.stdout).toContain('Every sandbox the demo started has been destroyed.');

    // Every server it started is gone: the production sandbox and the restored one.
    expect(serversMentioning(join(TEST_BASE, 'demo-production-'))).toEqual([]);
    expect(serversMentioning(join(TEST_BASE, incidentSandboxName(incident)))).toEqual([]);
    expect(existsSync(join(TEST_BASE, incidentSandboxName(incident)))).toBe(false);

    // The incident it leaves is whole: surgical, nothing lost, verified, and the chart has its data.
    const report = await salvage(['report', '--incident', incident, '--json']);
    const doc = JSON.parse(report.stdout);
    expect(doc).toMatchObject({
      status: 'recovered',
      strategy: 'surgical',
      lost: { transactions: 0, rows: 0 },
    });
    expect(doc.kept.transactions).toBeGreaterThan(0);
    expect(doc.verify.equal).toBe(true);
    expect(doc.rto_s).toBeGreaterThan(0);
    const html = await readFile(join(incident, 'report.html'), 'utf8');
    expect(html.match(/<rect class="bar"/g)?.length).toBe(doc.impact.activity.buckets.length);
    expect(doc.impact.activity.buckets.length).toBeGreaterThan(1);
  });
});
