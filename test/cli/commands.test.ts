import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandGroupsFor } from '../../src/cli/commands/index.js';
import { runSalvage } from '../support/cli.js';
import { ROOT } from '../support/paths.js';

describe('the command groups a command line loads', () => {
  it('loads only the group it names', () => {
    expect(commandGroupsFor(['undo', '--source', 'mysql://x', '--json'])).toEqual(['undo']);
    expect(commandGroupsFor(['--json', 'thaw'])).toEqual(['freeze']);
  });

  it('loads none for a bare --version, every one for help or an unknown command', () => {
    expect(commandGroupsFor(['--version'])).toEqual([]);
    expect(commandGroupsFor(['-V'])).toEqual([]);
    const all = commandGroupsFor([]);
    expect(all).toContain('undo');
    expect(all.length).toBeGreaterThan(10);
    expect(commandGroupsFor(['--version', '--help'])).toEqual(all);
    expect(commandGroupsFor(['undoo', '--version'])).toEqual(all);
  });

  it('prints the package version for --version, and lists every command for --help', async () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string })
      .version;
    const run = await runSalvage(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(version);
    const help = await runSalvage(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['undo', 'restore', 'verify', 'binlog']) expect(help.stdout).toContain(command);
  });
});
