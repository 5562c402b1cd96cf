/**
 * Checks that the account can do what a recovery needs. Names differ by
 * flavor: MariaDB 10.5.2 split REPLICATION CLIENT into BINLOG MONITOR (and
 * SUPER into READ_ONLY ADMIN and others); MySQL 8 has dynamic privileges.
 */
import type { Flavor, Grants, ServerVersion } from '../mysql/index.js';
import { hasGlobalPrivilege, versionAtLeast } from '../mysql/index.js';
import { type Check, fail, pass, warn } from './check.js';

/** What one capability needs: every group must be held, any name within a group will do. */
interface PrivilegeNeed {
  readonly id: string;
  readonly purpose: string;
  readonly required: boolean;
  readonly groups: readonly (readonly string[])[];
}

function privilegeNeeds(flavor: Flavor, version: ServerVersion): PrivilegeNeed[] {
  const mariadb = flavor === 'mariadb';
  const binlogMonitor =
    mariadb && versionAtLeast(version, 10, 5, 2)
      ? ['BINLOG MONITOR', 'REPLICATION CLIENT']
      : ['REPLICATION CLIENT'];
  const readOnlyAdmin = mariadb
    ? versionAtLeast(version, 10, 11)
      ? ['READ_ONLY ADMIN']
      : versionAtLeast(version, 10, 5, 2)
        ? ['READ_ONLY ADMIN', 'SUPER']
        : ['SUPER']
    : versionAtLeast(version, 8)
      ? ['SYSTEM_VARIABLES_ADMIN', 'SUPER']
      : ['SUPER'];
  const backup = [['RELOAD'], ['PROCESS'], ['LOCK TABLES'], ['SHOW VIEW'], ['EVENT'], ['TRIGGER']];
  if (!mariadb && versionAtLeast(version, 8)) backup.push(['BACKUP_ADMIN']);
  return [
    {
      id: 'privileges.read-binlog',
      purpose: 'read the binary log from the server (timeline, locate, archive)',
      required: true,
      groups: [['REPLICATION SLAVE']],
    },
    {
      id: 'privileges.binlog-status',
      purpose: 'list the binary logs and the current position',
      required: true,
      groups: [binlogMonitor],
    },
    {
      id: 'privileges.read-data',
      purpose: 'read every table (snapshot, verify, impact)',
      required: true,
      groups: [['SELECT']],
    },
    { id: 'privileges.backup', purpose: 'take consistent backups', required: false, groups: backup },
    {
      id: 'privileges.freeze',
      purpose: 'freeze writes with read_only',
      required: false,
      groups: [readOnlyAdmin],
    },
    {
      id: 'privileges.undo',
      purpose: 'apply compensating changes (undo --apply)',
      required: false,
      groups: [['INSERT'], ['UPDATE'], ['DELETE']],
    },
  ];
}

export function checkPrivileges(grants: Grants, flavor: Flavor, version: ServerVersion): Check[] {
  return privilegeNeeds(flavor, version).map((need) => checkNeed(need, grants));
}

function checkNeed(need: PrivilegeNeed, grants: Grants): Check {
  const missing = need.groups.filter((group) => !hasGlobalPrivilege(grants, group));
  if (missing.length === 0) return pass(need.id, `${grants.account} may ${need.purpose}.`);
  const names = missing.map((group) => group[0]!);
  const fix = `GRANT ${names.join(', ')} ON *.* TO ${grants.account};`;
  const partial = databasesGranting(grants, names);
  const where = partial.length > 0 ? ` (held only on ${partial.join(', ')})` : '';
  const roles =
    grants.roles.length > 0
      ? ` Privileges of roles not active at login (${grants.roles.join(', ')}) are not counted.`
      : '';
  const message = `${grants.account} lacks ${names.join(', ')} on *.*${where}: it cannot ${need.purpose}.${roles}`;
  return need.required ? fail(need.id, message, fix) : warn(need.id, message, fix);
}

function databasesGranting(grants: Grants, names: readonly string[]): string[] {
  return [...grants.databases]
    .filter(([, privileges]) =>
      names.some((name) => privileges.has(name) || privileges.has('ALL PRIVILEGES')),
    )
    .map(([database]) => database);
}
