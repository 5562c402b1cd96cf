/**
 * The cutover plan: how traffic moves from the old primary to the recovered
 * server, how to move it back, and the maintenance checklist of the runbook's
 * steps 8 to 10 (prepare, cut over, verify production).
 */
import { SalvageError } from '../errors.js';
import { type Dsn, formatDsn, formatEndpoint } from '../mysql/index.js';

export const CUTOVER_METHODS = ['command', 'proxysql', 'haproxy', 'dns-file'] as const;
export type CutoverMethod = (typeof CUTOVER_METHODS)[number];

/** How traffic is switched, with what each method needs. */
export type CutoverVia =
  | { readonly method: 'command'; readonly command: string }
  | {
      readonly method: 'proxysql';
      /** The ProxySQL admin interface, e.g. mysql://admin@127.0.0.1:6032. */
      readonly admin: Dsn;
      /** Only rows of this hostgroup (default: every row naming the old server). */
      readonly hostgroup?: number;
    }
  | {
      readonly method: 'haproxy';
      /** The HAProxy stats socket with `level admin`. */
      readonly socket: string;
      /** `backend/server` as in the HAProxy configuration. */
      readonly server: string;
    }
  | { readonly method: 'dns-file'; readonly file: string; readonly hostname: string };

export interface CutoverPlan {
  readonly from: string;
  readonly to: string;
  readonly via: CutoverVia;
  /** What --execute changes, in order. */
  readonly changes: readonly string[];
  /** The command that moves traffic back. */
  readonly rollback: string;
  readonly checklist: readonly string[];
  readonly warnings: readonly string[];
}

export function planCutover(from: Dsn, to: Dsn, via: CutoverVia): CutoverPlan {
  const fromText = formatDsn(from);
  const toText = formatDsn(to);
  if (formatEndpoint(from.endpoint) === formatEndpoint(to.endpoint)) {
    throw new SalvageError('BAD_INPUT', `--from and --to are the same server (${fromText}).`, {
      hint: 'Give the recovered server as --to.',
    });
  }
  const warnings: string[] = [];
  const switchText = describeSwitch(via, from, to);
  if (via.method !== 'command') {
    const [a, b] = [tcpAddress(from, '--from'), tcpAddress(to, '--to')];
    if (via.method === 'dns-file' && a.port !== b.port) {
      warnings.push(
        `A hosts file maps names to addresses only: clients must also use port ${b.port} instead of ${a.port}.`,
      );
    }
  }
  return {
    from: fromText,
    to: toText,
    via,
    changes: [
      `Check that ${fromText} is read-only (it stays so, untouched, for the rollback).`,
      switchText,
      `Make ${toText} writable: SET GLOBAL read_only = OFF.`,
    ],
    rollback: `salvage cutover --from ${toText} --to ${fromText} ${viaFlags(via)} --execute --yes`,
    checklist: [
      'Prepare (runbook step 8): agree the maintenance window and announce it; name who approves.',
      `Prepare: confirm the recovered server passed verification (salvage verify --source ${fromText} --target ${toText}).`,
      'Prepare: stop scheduled jobs and writers that still point at the old server; it is read-only and their writes fail.',
      `Prepare: keep the rollback at hand: ${'`'}salvage cutover --from ${toText} --to ${fromText} ${viaFlags(via)} --execute --yes${'`'}; writes made on the new server after the cutover are not carried back.`,
      `Cut over (step 9): ${switchText}`,
      `Cut over: lift read-only on ${toText} (done by --execute).`,
      'Verify production (step 10): run the application workflows and smoke tests; watch error rates and latency.',
      `Verify production: salvage detect --source ${toText} for integrity (FK orphans, CHECK TABLE).`,
      `Keep ${fromText} read-only and untouched until the owner signs off; then retire it.`,
    ],
    warnings,
  };
}

/** Host and port of a TCP DSN: proxies and DNS route addresses, not sockets. */
export function tcpAddress(dsn: Dsn, flag: string): { host: string; port: number } {
  if (dsn.endpoint.kind !== 'tcp') {
    throw new SalvageError(
      'BAD_INPUT',
      `${flag} ${formatDsn(dsn)} is a local socket; a proxy or DNS switch needs host:port.`,
      {
        hint: 'Give the server as mysql://user@host:port, or use --via command.',
      },
    );
  }
  return { host: dsn.endpoint.host, port: dsn.endpoint.port };
}

function describeSwitch(via: CutoverVia, fromDsn: Dsn, toDsn: Dsn): string {
  if (via.method === 'command') {
    return `Run \`${via.command}\` with SALVAGE_FROM_DSN=${formatDsn(fromDsn)} and SALVAGE_TO_DSN=${formatDsn(toDsn)} in its environment.`;
  }
  const from = tcpAddress(fromDsn, '--from');
  const to = tcpAddress(toDsn, '--to');
  switch (via.method) {
    case 'proxysql':
      return `On the ProxySQL admin interface ${formatEndpoint(via.admin.endpoint)}: UPDATE mysql_servers SET hostname='${to.host}', port=${to.port} WHERE hostname='${from.host}' AND port=${from.port}${via.hostgroup === undefined ? '' : ` AND hostgroup_id=${via.hostgroup}`}; LOAD MYSQL SERVERS TO RUNTIME; SAVE MYSQL SERVERS TO DISK.`;
    case 'haproxy':
      return `On the HAProxy socket ${via.socket}: set server ${via.server} addr ${to.host} port ${to.port}; enable server ${via.server}; shutdown sessions server ${via.server} (clients reconnect to the new address).`;
    case 'dns-file':
      return `Rewrite ${via.file} (atomically) so ${via.hostname} resolves to ${to.host}.`;
  }
}

function viaFlags(via: CutoverVia): string {
  switch (via.method) {
    case 'command':
      return `--via command --command ${shellQuote(via.command)}`;
    case 'proxysql':
      return `--via proxysql --proxysql-admin ${formatDsn(via.admin)}${via.hostgroup === undefined ? '' : ` --hostgroup ${via.hostgroup}`}`;
    case 'haproxy':
      return `--via haproxy --haproxy-socket ${shellQuote(via.socket)} --haproxy-backend ${via.server}`;
    case 'dns-file':
      return `--via dns-file --hosts-file ${shellQuote(via.file)} --hostname ${via.hostname}`;
  }
}

function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}
