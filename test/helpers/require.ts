// Tests that need root, mounts or a tool skip on a laptop with a reason, and fail in CI (CI=true or DIB_PYPI_REQUIRE_ALL=1).
import type { TestContext } from 'node:test';
import { spawnSync } from 'node:child_process';

export const isRequired = process.env.CI === 'true' || process.env.DIB_PYPI_REQUIRE_ALL === '1';
export const isRoot = process.getuid?.() === 0;

/** Returns true when the test may go on; otherwise skips it (laptop) or throws (CI). */
export function need(t: TestContext, ok: boolean, reason: string): boolean {
  if (ok) return true;
  if (isRequired) throw new Error(`required in CI but unavailable: ${reason}`);
  t.skip(reason);
  return false;
}

export function hasCommand(command: string, args: string[] = ['--version']): boolean {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}

/** For tests that upload with Debian's twine and make users with apache2-utils' `htpasswd -B`. */
export function canRunTwine(t: TestContext): boolean {
  const problem = !hasCommand('twine')
    ? "twine is missing: install Debian's twine"
    : !hasCommand('htpasswd', ['-nbB', 'a', 'b'])
      ? "htpasswd is missing: install Debian's apache2-utils"
      : undefined;
  if (problem !== undefined && !isRequired) console.log(`skipping: ${problem}`);
  return need(t, problem === undefined, problem ?? '');
}
