/**
 * The command tree. Each file in ./commands registers one command group and
 * maps its flags to a typed call into a capability module; no logic lives here.
 */
import { Command, type CommanderError } from 'commander';
import { SalvageError } from '../errors.js';
import { VERSION } from '../version.js';
import { registerCommands } from './commands/index.js';

export interface GlobalOptions {
  readonly json: boolean;
}

// Usage errors are reported once, by main(), with a code and a hint.
const quietErrors = { outputError: () => {} };

export async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command('salvage')
    .description(
      'Recover MySQL and MariaDB databases from a bad migration or script, exactly, and prove the result.',
    )
    .version(VERSION, '-V, --version')
    .option('--json', 'machine-readable output: one JSON document (or NDJSON for streams) on stdout', false)
    .exitOverride()
    .configureOutput(quietErrors);
  await registerCommands(program, argv);
  // Subcommands inherit exitOverride so usage errors surface as exceptions, not exits.
  const inherit = (command: Command): void => {
    for (const sub of command.commands) {
      sub.exitOverride();
      sub.configureOutput(quietErrors);
      inherit(sub);
    }
  };
  inherit(program);
  return program;
}

/** The global options of a command's invocation (--json). */
export function globalOptions(command: Command): GlobalOptions {
  return { json: Boolean(command.optsWithGlobals().json) };
}

/** Turns a commander usage error into our error type (exit 2). */
export function usageError(error: CommanderError): SalvageError {
  return new SalvageError('USAGE', error.message.replace(/^error: /, ''));
}
