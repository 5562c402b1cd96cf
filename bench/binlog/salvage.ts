/**
 * The salvage CLI as the benchmarks run it: the bundle bin/salvage runs, but
 * from the benchmark's own build (run.sh compiles and bundles it into
 * bench/data/), so edits made elsewhere in the checkout during a run never
 * trigger a rebuild inside a timed command.
 */
import type * as Cli from '../../src/cli/main.js';

const bundle = new URL('../../bundle/main.js', import.meta.url);
const { main } = (await import(bundle.href)) as typeof Cli;
process.exitCode = await main(process.argv.slice(2));
