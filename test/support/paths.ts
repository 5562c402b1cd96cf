import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's root directory (where package.json is). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The real MySQL 8 binary logs in shared/, which sits beside the project's
 * checkout (locally and in CI); SALVAGE_MYSQL8_FIXTURES overrides it.
 */
export const MYSQL8_FIXTURES: string =
  process.env.SALVAGE_MYSQL8_FIXTURES ?? join(ROOT, '..', 'shared', 'fixtures', 'mysql8');

/** The command users run: builds dist/ when stale, then runs the CLI. */
export const BIN: string = join(ROOT, 'bin', 'salvage');
