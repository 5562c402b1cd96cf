/**
 * Carrying out a cutover: the old primary is made (or kept) read-only and is
 * otherwise left untouched for the rollback; traffic is switched; only then is
 * the new primary made writable, so no application can write to it before
 * the switch has succeeded.
 */
import { SalvageError } from '../errors.js';
import { type ConnectTarget, describeTarget, formatDsn, queryRows, withConnection } from '../mysql/index.js';
import { type CutoverPlan, tcpAddress } from './plan.js';
import { switchTraffic } from './switch.js';

export interface CutoverTargets {
  readonly from: ConnectTarget;
  readonly to: ConnectTarget;
  /** The ProxySQL admin interface's login, for --via proxysql. */
  readonly admin?: ConnectTarget;
}

export interface CutoverResult {
  readonly plan: CutoverPlan;
  /** What was done, in order. */
  readonly done: readonly string[];
  /** False when the old primary could not be reached (then it could not be checked either). */
  readonly from_read_only: boolean;
  readonly to_writable: boolean;
  readonly warnings: readonly string[];
}

export async function executeCutover(plan: CutoverPlan, targets: CutoverTargets): Promise<CutoverResult> {
  const done: string[] = [];
  const warnings = [...plan.warnings];
  // The new primary must answer before anything moves.
  await withConnection(targets.to, (conn) => queryRows(conn, 'SELECT 1'));
  let fromReadOnly = false;
  try {
    await withConnection(targets.from, async (conn) => {
      await queryRows(conn, 'SET GLOBAL read_only = ON');
      fromReadOnly = true;
    });
    done.push(`${describeTarget(targets.from)} is read-only`);
  } catch (error) {
    // A dead old primary is a common reason to cut over: go on, and say so.
    warnings.push(
      `${describeTarget(targets.from)} could not be made read-only (${(error as Error).message}); make sure nothing writes to it.`,
    );
  }
  const address = (target: ConnectTarget, flag: string) =>
    target.dsn.endpoint.kind === 'tcp' ? tcpAddress(target.dsn, flag) : undefined;
  done.push(
    ...(await switchTraffic(
      plan.via,
      {
        dsn: formatDsn({ ...targets.from.dsn, user: targets.from.user }),
        address: address(targets.from, '--from'),
      },
      { dsn: formatDsn({ ...targets.to.dsn, user: targets.to.user }), address: address(targets.to, '--to') },
      targets.admin,
    )),
  );
  try {
    await withConnection(targets.to, (conn) => queryRows(conn, 'SET GLOBAL read_only = OFF'));
  } catch (error) {
    throw new SalvageError(
      'CUTOVER_FAILED',
      `Traffic now goes to ${describeTarget(targets.to)} but it could not be made writable: ${(error as Error).message}`,
      {
        hint: `Run SET GLOBAL read_only = OFF there as an administrator, or roll back: ${plan.rollback}`,
        cause: error,
      },
    );
  }
  done.push(`${describeTarget(targets.to)} is writable`);
  return { plan, done, from_read_only: fromReadOnly, to_writable: true, warnings };
}
