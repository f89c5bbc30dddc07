// Test fixture: run Debian's pip hermetically (no PIP_* from this machine's environment) and throwaway directories.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

/** Debian's python3, whose pip (23.0.1) is the one image builds use. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

/**
 * `env` without any PIP_* variable, then `extra`. pip reads PIP_* after every config file
 * (this machine sets PIP_FIND_LINKS), so a test that keeps them tests the machine, not us.
 */
export function envWithoutPip(env: NodeJS.ProcessEnv, extra: Record<string, string> = {}): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('PIP_') && value !== undefined) clean[name] = value;
  }
  return { ...clean, ...extra };
}

/** Why Debian's pip cannot install and build here, or undefined when it can. */
export async function debianPipProblem(): Promise<string | undefined> {
  const env = envWithoutPip(process.env);
  const pip = await execa(DEBIAN_PYTHON, ['-m', 'pip', '--version'], { env, extendEnv: false, reject: false });
  if (pip.exitCode !== 0) {
    const why = (pip.shortMessage ?? `exit code ${pip.exitCode}`).split('\n')[0];
    return `${DEBIAN_PYTHON} -m pip is not usable (${why}); install Debian's python3-pip`;
  }
  // Offline sdist builds (--no-build-isolation) use the system's setuptools and wheel.
  const build = await execa(DEBIAN_PYTHON, ['-c', 'import setuptools, wheel'], { env, extendEnv: false, reject: false });
  if (build.exitCode !== 0) return `${DEBIAN_PYTHON} cannot import setuptools and wheel; install Debian's python3-setuptools and python3-wheel`;
  return undefined;
}

/** A fresh temp directory, removed by `await using` (or by calling `remove`). */
export function makeTempDir(prefix: string): { path: string; remove: () => void } & AsyncDisposable {
  const path = mkdtempSync(join(tmpdir(), prefix));
  const remove = () => rmSync(path, { recursive: true, force: true });
  return { path, remove, [Symbol.asyncDispose]: async () => remove() };
}
