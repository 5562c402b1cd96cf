/**
 * New data directories for sandboxes. Initializing one (mariadb-install-db,
 * mysqld --initialize-insecure) takes seconds; copying a clean one takes
 * milliseconds. So each server build is initialized once into a template,
 * and every sandbox starts from a copy of it.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SalvageError } from '../errors.js';
import type { ServerBinaries } from './binaries.js';
import { lastLines } from './server-log.js';

/** Small enough to start in well under a second; these are throwaway servers. */
export function sizingArgs(binaries: ServerBinaries): string[] {
  const args = ['--innodb-buffer-pool-size=16M', '--performance-schema=OFF'];
  if (binaries.flavor === 'mariadb') args.push('--innodb-log-file-size=8M');
  // mariadbd refuses to run as root unless told to; as another user --user is ignored with a warning.
  if (process.getuid?.() === 0) args.push('--user=root');
  return args;
}

/** Fills `datadir` (which must not exist) with a freshly initialized data directory. */
export async function copyFreshDatadir(
  binaries: ServerBinaries,
  templatesDir: string,
  datadir: string,
): Promise<void> {
  const template = await templateFor(binaries, templatesDir);
  await cp(join(template, 'data'), datadir, { recursive: true, errorOnExist: true, force: false });
  // MySQL keeps server_uuid in auto.cnf; a copy must get its own at first start.
  if (binaries.flavor === 'mysql') await rm(join(datadir, 'auto.cnf'), { force: true });
}

async function templateFor(binaries: ServerBinaries, templatesDir: string): Promise<string> {
  const key = createHash('sha256')
    .update(JSON.stringify([binaries.server, binaries.version, binaries.installDb, process.getuid?.()]))
    .digest('hex')
    .slice(0, 16);
  const template = join(templatesDir, `${binaries.flavor}-${key}`);
  if (await exists(template)) return template;
  // Built aside and renamed into place, so a concurrent creator never copies half a template.
  const building = `${template}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  await mkdir(building, { recursive: true });
  try {
    await initializeDatadir(binaries, building);
    await rename(building, template).catch(async (error: NodeJS.ErrnoException) => {
      // Someone else finished first; theirs is as good as ours.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
  } finally {
    await rm(building, { recursive: true, force: true });
  }
  return template;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Creates `<dir>/data` with the server's own initializer; its output goes to `<dir>/install.log`. */
async function initializeDatadir(binaries: ServerBinaries, dir: string): Promise<void> {
  const common = ['--no-defaults', `--datadir=${join(dir, 'data')}`];
  let program: string;
  let args: string[];
  if (binaries.installDb !== undefined) {
    program = binaries.installDb;
    args = [
      ...common,
      `--basedir=${dirname(dirname(binaries.server))}`,
      // Root without password: sandboxes listen on 127.0.0.1 only.
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      '--skip-name-resolve',
      ...sizingArgs(binaries),
    ];
  } else {
    // MySQL creates only root@localhost; the sandbox is reached over 127.0.0.1.
    const init = join(dir, 'init.sql');
    await writeFile(
      init,
      [
        "CREATE USER 'root'@'127.0.0.1' IDENTIFIED BY '';",
        "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;",
        '',
      ].join('\n'),
    );
    program = binaries.server;
    args = [...common, '--initialize-insecure', `--init-file=${init}`, ...sizingArgs(binaries)];
  }
  const output = await new Promise<{ ok: boolean; text: string }>((done) => {
    execFile(program, args, { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      done({ ok: error === null, text: `${stdout}${stderr}` }),
    );
  });
  await writeFile(join(dir, 'install.log'), output.text);
  if (!output.ok) {
    throw new SalvageError(
      'SERVER_START_FAILED',
      `Creating a data directory with ${program} failed:\n${lastLines(output.text)}`,
      { hint: 'Read the output above; the sandbox was removed.', context: { program } },
    );
  }
}
