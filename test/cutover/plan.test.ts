import { describe, expect, it } from 'vitest';
import { planCutover } from '../../src/cutover/index.js';
import { parseDsn } from '../../src/mysql/index.js';

const from = parseDsn('mysql://app@10.0.0.5:3306');
const to = parseDsn('mysql://app@10.0.0.9:3307');

describe('planCutover', () => {
  it('plans a ProxySQL switch with its rollback and the runbook checklist', () => {
    const plan = planCutover(from, to, {
      method: 'proxysql',
      admin: parseDsn('mysql://admin@127.0.0.1:6032'),
      hostgroup: 10,
    });
    expect(plan.changes[1]).toBe(
      "On the ProxySQL admin interface 127.0.0.1:6032: UPDATE mysql_servers SET hostname='10.0.0.9', port=3307 WHERE hostname='10.0.0.5' AND port=3306 AND hostgroup_id=10; LOAD MYSQL SERVERS TO RUNTIME; SAVE MYSQL SERVERS TO DISK.",
    );
    expect(plan.rollback).toBe(
      'salvage cutover --from mysql://app@10.0.0.9:3307 --to mysql://app@10.0.0.5:3306 --via proxysql --proxysql-admin mysql://admin@127.0.0.1:6032 --hostgroup 10 --execute --yes',
    );
    expect(plan.checklist.map((item) => item.split(':')[0])).toEqual([
      'Prepare (runbook step 8)',
      'Prepare',
      'Prepare',
      'Prepare',
      'Cut over (step 9)',
      'Cut over',
      'Verify production (step 10)',
      'Verify production',
      'Keep mysql',
    ]);
  });

  it('warns that a hosts file cannot change the port', () => {
    const plan = planCutover(from, to, { method: 'dns-file', file: '/etc/hosts', hostname: 'db' });
    expect(plan.warnings).toEqual([
      'A hosts file maps names to addresses only: clients must also use port 3307 instead of 3306.',
    ]);
  });

  it('refuses the same server on both sides and a socket behind a proxy', () => {
    expect(() => planCutover(from, from, { method: 'command', command: 'true' })).toThrow(/same server/);
    const socket = parseDsn('mysql://app@/shop?socket=/run/mysqld/mysqld.sock');
    expect(() =>
      planCutover(socket, to, { method: 'haproxy', socket: '/run/haproxy.sock', server: 'db/primary' }),
    ).toThrow(/local socket/);
    expect(planCutover(socket, to, { method: 'command', command: 'deploy-switch' }).changes[1]).toContain(
      'SALVAGE_FROM_DSN=',
    );
  });
});
