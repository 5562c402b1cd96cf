/**
 * The salvage CLI as the benchmarks run it: the same entry as bin/salvage but
 * from the benchmark's own build, so edits made elsewhere in the checkout
 * during a run never trigger a rebuild inside a timed command.
 */
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
