/**
 * Cutover: the plan for moving applications to the recovered server (with
 * its rollback and the maintenance checklist), and carrying it out through a
 * command, ProxySQL, HAProxy or a hosts file.
 */
export { type CutoverResult, type CutoverTargets, executeCutover } from './execute.js';
export {
  CUTOVER_METHODS,
  type CutoverMethod,
  type CutoverPlan,
  type CutoverVia,
  planCutover,
  tcpAddress,
} from './plan.js';
export { haproxyCommand, switchHostsFile, switchTraffic } from './switch.js';
