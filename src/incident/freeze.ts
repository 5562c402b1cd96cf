/**
 * Freeze: stop every further change to a server at the start of an incident.
 * MySQL gets super_read_only (which implies read_only, and stops SUPER
 * accounts too); MariaDB has no super_read_only, so it gets read_only and a
 * warning naming the accounts that can still write (READ_ONLY ADMIN, and
 * SUPER before 10.11). The event scheduler is switched off so scheduled jobs
 * stop. Open write transactions are listed, and ended with killWriters.
 *
 * The state before the first freeze is recorded in a file, so thaw puts back
 * exactly what was there. Freezing again keeps that first record; thawing
 * removes it.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { SalvageError } from '../errors.js';
import {
  type Connection,
  type ConnectTarget,
  describeTarget,
  type Flavor,
  parseVersion,
  queryRows,
  readServerIdentity,
  readVariables,
  type ServerIdentity,
  sameServer,
  versionAtLeast,
  withConnection,
} from '../mysql/index.js';

/** The settings freeze changes, as they were. super_read_only is absent on MariaDB. */
export interface WriteState {
  readonly read_only: boolean;
  readonly super_read_only: boolean | null;
  /** ON, OFF or DISABLED (DISABLED cannot be changed at runtime). */
  readonly event_scheduler: string;
}

const StateFile = z.object({
  format: z.literal('salvage-freeze-state'),
  version: z.literal(1),
  server: z.string(),
  identity: z.object({
    flavor: z.enum(['mysql', 'mariadb']),
    version: z.string(),
    serverId: z.number(),
    serverUuid: z.string().optional(),
    hostname: z.string(),
    port: z.number(),
    datadir: z.string(),
  }),
  frozen_at: z.string(),
  prior: z.object({
    read_only: z.boolean(),
    super_read_only: z.boolean().nullable(),
    event_scheduler: z.string(),
  }),
});
type StateFile = z.infer<typeof StateFile>;

/** One variable changed on the server. */
export interface SettingChange {
  readonly variable: string;
  readonly from: string;
  readonly to: string;
}

/** A session with an open transaction that has modified rows. */
export interface OpenWriter {
  readonly id: number;
  readonly user: string;
  readonly host: string;
  readonly db: string | null;
  readonly rows_modified: number;
  readonly started: string;
  readonly state: string;
  readonly query: string | null;
}

export interface FreezeReport {
  readonly server: string;
  readonly state_file: string;
  /** True when a state file already existed: the prior state kept is the one recorded then. */
  readonly already_frozen: boolean;
  readonly prior: WriteState;
  readonly changes: readonly SettingChange[];
  readonly writers: readonly OpenWriter[];
  readonly killed: readonly number[];
  /** Accounts that can still write despite the freeze. */
  readonly can_still_write: readonly string[];
  readonly warnings: readonly string[];
}

export interface FreezeOptions {
  readonly killWriters?: boolean;
  /** Where to record the prior state; default ~/.salvage/state/<server>.json. */
  readonly stateFile?: string;
  /** How long SET GLOBAL read_only may wait for locks held by other sessions. Default 30 s. */
  readonly lockWaitSeconds?: number;
}

export async function freeze(target: ConnectTarget, options: FreezeOptions = {}): Promise<FreezeReport> {
  return withConnection(target, async (conn) => {
    const identity = await readServerIdentity(conn);
    const path = options.stateFile ?? defaultStatePath(identity);
    const current = await readWriteState(conn);
    const recorded = await readState(path, identity);
    if (recorded === undefined) await writeState(path, stateFileFor(target, identity, current));
    const prior = recorded?.prior ?? current;
    const warnings: string[] = [];
    const before = await listOpenWriters(conn);
    const killed: number[] = [];
    if (options.killWriters) killed.push(...(await killSessions(conn, before)));
    await queryRows(conn, `SET SESSION lock_wait_timeout = ${Math.max(1, options.lockWaitSeconds ?? 30)}`);
    const changes: SettingChange[] = [];
    try {
      if (identity.flavor === 'mysql' && current.super_read_only !== null) {
        if (!current.super_read_only) changes.push(await setGlobal(conn, 'super_read_only', 'ON', current));
      } else if (!current.read_only) {
        changes.push(await setGlobal(conn, 'read_only', 'ON', current));
      }
    } catch (error) {
      throw new SalvageError(
        'SERVER_ERROR',
        `Could not make ${describeTarget(target)} read-only: ${(error as Error).message}`,
        {
          hint: 'Another session holds a lock (LOCK TABLES, FLUSH TABLES WITH READ LOCK, a long commit). Run again with --kill-writers, or end that session.',
          cause: error,
        },
      );
    }
    if (current.event_scheduler === 'ON')
      changes.push(await setGlobal(conn, 'event_scheduler', 'OFF', current));
    if (current.event_scheduler === 'DISABLED') {
      warnings.push('event_scheduler is DISABLED at startup: no events run, nothing to stop.');
    }
    // Writers that were mid-commit when read_only went on, or that killWriters missed.
    const after = await listOpenWriters(conn);
    if (options.killWriters)
      killed.push(
        ...(await killSessions(
          conn,
          after.filter((w) => !killed.includes(w.id)),
        )),
      );
    const canStillWrite = await accountsThatCanStillWrite(conn, identity.flavor, identity.version);
    if (canStillWrite.length > 0) {
      warnings.push(
        `${canStillWrite.length} account(s) can still write while read_only is ON: ${canStillWrite.join(', ')}. ` +
          'Keep their applications stopped or revoke the privilege for the incident.',
      );
    }
    const open = after.filter((w) => !killed.includes(w.id));
    if (open.length > 0 && !options.killWriters) {
      warnings.push(
        `${open.length} session(s) hold open write transactions; their COMMIT will now fail. End them with --kill-writers.`,
      );
    }
    return {
      server: describeTarget(target),
      state_file: path,
      already_frozen: recorded !== undefined,
      prior,
      changes,
      writers: uniqueWriters([...before, ...after]),
      killed,
      can_still_write: canStillWrite,
      warnings,
    };
  });
}

export interface ThawReport {
  readonly server: string;
  readonly state_file: string;
  /** The state put back; null when there was no state file (nothing to do). */
  readonly restored: WriteState | null;
  readonly changes: readonly SettingChange[];
  readonly message: string;
}

/** Puts back the settings recorded by the first freeze, then removes the record. */
export async function thaw(target: ConnectTarget, options: { stateFile?: string } = {}): Promise<ThawReport> {
  return withConnection(target, async (conn) => {
    const identity = await readServerIdentity(conn);
    const path = options.stateFile ?? defaultStatePath(identity);
    const recorded = await readState(path, identity);
    const current = await readWriteState(conn);
    if (recorded === undefined) {
      return {
        server: describeTarget(target),
        state_file: path,
        restored: null,
        changes: [],
        message:
          `No freeze recorded at ${path}: nothing to restore (read_only is ${onOff(current.read_only)}` +
          `${current.super_read_only === null ? '' : `, super_read_only ${onOff(current.super_read_only)}`}). ` +
          'If the server was frozen by hand, set the variables back with SET GLOBAL.',
      };
    }
    const prior = recorded.prior;
    const changes: SettingChange[] = [];
    if (prior.event_scheduler !== current.event_scheduler && prior.event_scheduler !== 'DISABLED') {
      changes.push(await setGlobal(conn, 'event_scheduler', prior.event_scheduler, current));
    }
    // On MySQL read_only=OFF also clears super_read_only and super_read_only=ON sets read_only: order matters.
    if (current.super_read_only !== null && prior.super_read_only !== null) {
      if (current.super_read_only !== prior.super_read_only) {
        changes.push(await setGlobal(conn, 'super_read_only', onOff(prior.super_read_only), current));
      }
    }
    const now = await readWriteState(conn);
    if (now.read_only !== prior.read_only) {
      changes.push(await setGlobal(conn, 'read_only', onOff(prior.read_only), now));
    }
    await rm(path, { force: true });
    return {
      server: describeTarget(target),
      state_file: path,
      restored: prior,
      changes,
      message: `Restored the state recorded at ${recorded.frozen_at}.`,
    };
  });
}

/** ~/.salvage/state/<server>.json ($SALVAGE_HOME instead of ~/.salvage when set). */
export function defaultStatePath(identity: ServerIdentity): string {
  const home = process.env.SALVAGE_HOME ?? join(homedir(), '.salvage');
  const name =
    identity.serverUuid ?? `${identity.hostname}-${identity.port}-${identity.serverId}-${identity.datadir}`;
  return join(home, 'state', `${name.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^_+|_+$/g, '')}.json`);
}

export async function readWriteState(conn: Connection): Promise<WriteState> {
  const variables = await readVariables(conn, ['read_only', 'super_read_only', 'event_scheduler']);
  const superReadOnly = variables.get('super_read_only');
  return {
    read_only: isOn(variables.get('read_only')),
    super_read_only: superReadOnly === undefined ? null : isOn(superReadOnly),
    event_scheduler: (variables.get('event_scheduler') ?? 'OFF').toUpperCase(),
  };
}

/** Sessions other than ours with a transaction that has modified rows. */
export async function listOpenWriters(conn: Connection): Promise<OpenWriter[]> {
  const rows = await queryRows(
    conn,
    `SELECT p.ID AS id, p.USER AS user, p.HOST AS host, p.DB AS db, t.trx_rows_modified AS modified,
            CAST(t.trx_started AS CHAR) AS started, t.trx_state AS state, p.INFO AS query
       FROM information_schema.INNODB_TRX t
       JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
      WHERE t.trx_rows_modified > 0 AND p.ID <> CONNECTION_ID()
      ORDER BY t.trx_started`,
  );
  return rows.map((row) => ({
    id: Number(row.id),
    user: String(row.user ?? ''),
    host: String(row.host ?? ''),
    db: row.db == null ? null : String(row.db),
    rows_modified: Number(row.modified ?? 0),
    started: String(row.started ?? ''),
    state: String(row.state ?? ''),
    query: row.query == null ? null : String(row.query),
  }));
}

async function killSessions(conn: Connection, writers: readonly OpenWriter[]): Promise<number[]> {
  const killed: number[] = [];
  for (const writer of writers) {
    try {
      await queryRows(conn, `KILL CONNECTION ${writer.id}`);
      killed.push(writer.id);
    } catch (error) {
      // 1094: the session ended on its own in the meantime.
      if ((error as { cause?: { errno?: number } }).cause?.errno !== 1094) throw error;
    }
  }
  return killed;
}

/**
 * Accounts that read_only does not stop. MariaDB 10.11 split READ_ONLY ADMIN
 * out of SUPER; before that SUPER bypassed read_only. On MySQL with
 * super_read_only nobody can, so none are listed.
 */
async function accountsThatCanStillWrite(
  conn: Connection,
  flavor: Flavor,
  version: string,
): Promise<string[]> {
  if (flavor === 'mysql') return [];
  const privileges = versionAtLeast(parseVersion(version), 10, 11)
    ? ['READ_ONLY ADMIN']
    : ['READ_ONLY ADMIN', 'SUPER'];
  // USER_PRIVILEGES lists every account only for a user who may read the mysql schema; others see their own.
  const rows = await queryRows(
    conn,
    `SELECT DISTINCT GRANTEE AS grantee FROM information_schema.USER_PRIVILEGES
      WHERE PRIVILEGE_TYPE IN (?) ORDER BY GRANTEE`,
    [privileges],
  );
  return rows.map((row) => String(row.grantee));
}

async function setGlobal(
  conn: Connection,
  variable: string,
  value: string,
  current: WriteState,
): Promise<SettingChange> {
  const from =
    variable === 'event_scheduler'
      ? current.event_scheduler
      : onOff(variable === 'read_only' ? current.read_only : Boolean(current.super_read_only));
  await queryRows(conn, `SET GLOBAL ${variable} = ${value}`);
  return { variable, from, to: value };
}

function stateFileFor(target: ConnectTarget, identity: ServerIdentity, prior: WriteState): StateFile {
  return {
    format: 'salvage-freeze-state',
    version: 1,
    server: describeTarget(target),
    identity: { ...identity, serverUuid: identity.serverUuid },
    frozen_at: new Date().toISOString(),
    prior,
  };
}

async function readState(path: string, identity: ServerIdentity): Promise<StateFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SalvageError(
      'FILE_NOT_FOUND',
      `Cannot read the freeze state ${path}: ${(error as Error).message}`,
    );
  }
  let parsed: ReturnType<typeof StateFile.safeParse>;
  try {
    parsed = StateFile.safeParse(JSON.parse(text));
  } catch {
    parsed = StateFile.safeParse(undefined);
  }
  if (!parsed.success) {
    throw new SalvageError('BAD_INPUT', `${path} is not a salvage freeze state file.`, {
      hint: 'Give --state the file freeze wrote, or move the damaged file away and set read_only back by hand.',
      context: { file: path },
    });
  }
  if (!sameServer(parsed.data.identity as ServerIdentity, identity)) {
    throw new SalvageError(
      'BAD_INPUT',
      `${path} records the state of another server (${parsed.data.server}).`,
      {
        hint: 'Give --state the file written when this server was frozen.',
        context: { file: path },
      },
    );
  }
  return parsed.data;
}

async function writeState(path: string, state: StateFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, path);
}

function uniqueWriters(writers: readonly OpenWriter[]): OpenWriter[] {
  const seen = new Map<number, OpenWriter>();
  for (const writer of writers) if (!seen.has(writer.id)) seen.set(writer.id, writer);
  return [...seen.values()];
}

function isOn(value: string | undefined): boolean {
  return value !== undefined && ['ON', '1', 'YES', 'TRUE'].includes(value.toUpperCase());
}

function onOff(value: boolean): string {
  return value ? 'ON' : 'OFF';
}
