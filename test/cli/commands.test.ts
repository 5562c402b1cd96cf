import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
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

  it('runs the bundle: no module of dist/cli/ or node_modules/ is loaded on its own', async () => {
    // A resolve hook that names every file module the process loads.
    const dir = mkdtempSync(join(tmpdir(), 'salvage-modules-'));
    try {
      const hooks = join(dir, 'hooks.mjs');
      writeFileSync(
        hooks,
        "export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.startsWith('file:')) process.stderr.write('loaded ' + r.url + '\\n'); return r; }\n",
      );
      const register = join(dir, 'register.mjs');
      writeFileSync(
        register,
        `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
      );
      const run = await runSalvage(['undo', '--help'], { env: { NODE_OPTIONS: `--import=${register}` } });
      expect(run.code).toBe(0);
      const loaded = [...run.stderr.matchAll(/^loaded (.*)$/gm)].map((m) => m[1] as string);
      const bundle = pathToFileURL(join(ROOT, 'dist', 'bundle')).href;
      expect(loaded).toContain(`${bundle}/main.js`);
      const outside = loaded.filter((url) => !url.startsWith(`${bundle}/`) && !url.endsWith('/bin/salvage'));
      expect(outside).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
