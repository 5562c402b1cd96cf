/**
 * The incident directory: the journal, the request that opened it, and a
 * lock so two processes never drive the same incident at once. The request
 * holds what is needed to resume (DSN, password *file* path, TLS files,
 * repository) and never a password.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { SalvageError } from '../errors.js';
import { type ConnectTarget, parseDsn, resolveTarget, SSL_MODES } from '../mysql/index.js';
import { JOURNAL_FILE, type JsonObject } from './journal.js';
import { STRATEGIES } from './plan.js';

export const ConnectionSettingsSchema = z.object({
  passwordFile: z.string().optional(),
  sslMode: z.enum(SSL_MODES).optional(),
  sslCa: z.string().optional(),
  sslCert: z.string().optional(),
  sslKey: z.string().optional(),
  connectTimeoutMs: z.number().positive().optional(),
});
/** How to log in to the source again on resume: paths, never secrets. */
export type ConnectionSettings = z.infer<typeof ConnectionSettingsSchema>;

export const RecoverRequestSchema = z.object({
  source: z.string(),
  connection: ConnectionSettingsSchema,
  repo: z.string(),
  gtids: z.array(z.string()),
  migration: z.string().nullable(),
  grep: z.string().nullable(),
  strategy: z.enum(STRATEGIES).nullable(),
  assert_file: z.string().nullable(),
  /** Where restore sandboxes go; null: the default ($SALVAGE_HOME/sandboxes or ~/.salvage/sandboxes). */
  sandbox_base: z.string().nullable(),
});
/** What `salvage recover` was asked to do: the first journal entry's inputs. */
export type RecoverRequest = z.infer<typeof RecoverRequestSchema>;

export function journalPath(dir: string): string {
  return join(dir, JOURNAL_FILE);
}

/** ./salvage-incident-<UTC timestamp> */
export function defaultIncidentDir(now: Date = new Date()): string {
  return resolve(
    `salvage-incident-${now
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}`,
  );
}

export function parseRequest(inputs: JsonObject, path: string): RecoverRequest {
  const parsed = RecoverRequestSchema.safeParse(inputs);
  if (!parsed.success) {
    throw new SalvageError('JOURNAL_BROKEN', `The journal ${path} does not start with a recover request.`, {
      context: { file: path },
    });
  }
  return parsed.data;
}

export function sourceTarget(request: RecoverRequest): ConnectTarget {
  const c = request.connection;
  return resolveTarget(parseDsn(request.source), {
    passwordFile: c.passwordFile,
    tls: { mode: c.sslMode, ca: c.sslCa, cert: c.sslCert, key: c.sslKey },
    connectTimeoutMs: c.connectTimeoutMs,
  });
}

/**
 * Takes the incident's lock (a file holding our pid). A lock whose process is
 * gone was left by a crash and is taken over.
 */
export async function lockIncident(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.write(`${process.pid}\n`);
      await handle.close();
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new SalvageError('INCIDENT_BUSY', `Process ${pid} is working on the incident in ${dir}.`, {
          context: { dir, pid },
        });
      }
      await rm(path, { force: true });
    }
  }
  throw new SalvageError('INCIDENT_BUSY', `Could not lock the incident in ${dir}.`, { context: { dir } });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
