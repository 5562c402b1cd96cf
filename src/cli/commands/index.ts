import type { Command } from 'commander';
import { registerBinlog } from './binlog.js';
import { registerPreflight } from './preflight.js';
import { registerSandbox } from './sandbox.js';

/** Every command group, in the order of the runbook. */
export function registerCommands(program: Command): void {
  registerSandbox(program);
  registerPreflight(program);
  registerBinlog(program);
  void program;
}
