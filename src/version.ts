import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The package version, read once from the nearest package.json above this
 * module: src/ and dist/ sit one level below it, the bundle (dist/bundle/)
 * two.
 */
export const VERSION: string = readVersion();

function readVersion(): string {
  let dir = new URL('..', import.meta.url);
  for (let up = 0; up < 3; up++, dir = new URL('..', dir)) {
    let text: string;
    try {
      text = readFileSync(new URL('package.json', dir), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    return (JSON.parse(text) as { version: string }).version;
  }
  throw new Error(`no package.json in the three directories above ${fileURLToPath(import.meta.url)}`);
}
