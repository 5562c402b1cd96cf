/**
 * The only place that sees argv and the only place that exits the process.
 */
import { CommanderError } from 'commander';
import { ExitStatus, SalvageError } from '../errors.js';
import { formatError, isSalvageError } from './output.js';
import { buildProgram, usageError } from './program.js';

export async function main(argv: readonly string[]): Promise<number> {
  const json = argv.includes('--json');
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv as string[], { from: 'user' });
    return (process.exitCode as number | undefined) ?? ExitStatus.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      if (error.exitCode === 0) return ExitStatus.ok;
      return report(usageError(error), json);
    }
    if (isSalvageError(error)) return report(error, json);
    const wrapped = new SalvageError('INTERNAL', error instanceof Error ? error.message : String(error), {
      cause: error,
    });
    if (process.env.SALVAGE_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    return report(wrapped, json);
  }
}

function report(error: SalvageError, json: boolean): number {
  const text = formatError(error, json);
  if (json) process.stdout.write(`${text}\n`);
  else process.stderr.write(`${text}\n`);
  return error.exit;
}
