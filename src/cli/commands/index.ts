import type { Command } from 'commander';

/** Every command group, in the order of the runbook. */
export function registerCommands(program: Command): void {
  void program;
}
