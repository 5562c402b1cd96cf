/**
 * Builds dist/ once before any test runs, so the tests that start
 * bin/salvage as a process do not each race to rebuild it.
 */
import { execFileSync } from 'node:child_process';
import { BIN } from './paths.js';

export default function setup(): void {
  execFileSync(process.execPath, [BIN, '--version'], { stdio: ['ignore', 'ignore', 'inherit'] });
}
