import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtimeMs(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Some tests spawn the built server (`node dist/main.js`): a pause, a flood, a shutdown, a
 * stalled peer. `npm ci && npm test` must pass on its own, so the build is made here when dist/ is
 * missing or older than src/ (CI builds first, and then this costs one directory walk).
 */
export function ensureBuiltServer(): void {
  if (process.env.BUILT_SERVER_MAIN) return;
  const main = join(ROOT, 'dist/main.js');
  if (existsSync(main) && statSync(main).mtimeMs >= newestMtimeMs(join(ROOT, 'src'))) return;
  console.log('\n[tests] building dist/ for the tests that spawn the built server');
  execFileSync('npx', ['nest', 'build'], { cwd: ROOT, stdio: 'inherit' });
  // An incremental build leaves unchanged outputs alone; mark this one as up to date.
  const now = new Date();
  utimesSync(main, now, now);
}
