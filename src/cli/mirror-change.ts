// What the mirror's change commands (remove, yank, unyank) share: the mirror directory, the re-index's problems.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { IndexResult } from '../mirror/index/types.js';
import { redact } from '../redact.js';

/** The mirror directory of a change command, which must exist. */
export function mirrorDir(raw: string, command: string): string {
  const dir = resolve(raw);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`not a directory: ${JSON.stringify(raw)}`, command);
  return dir;
}

/** Broken files the re-index skipped: told on stderr, and the command exits 1 (as mirror index does). */
export function reportProblems(result: IndexResult): void {
  for (const problem of result.problems) process.stderr.write(`dib-pypi: broken file skipped: ${redact(`${problem.path}: ${problem.message}`)}\n`);
  if (result.problems.length > 0) process.exitCode = 1;
}
