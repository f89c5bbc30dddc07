// Run a command under GNU time (`/usr/bin/time -v`): wall time from our own clock, peak RSS from time's report.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const GNU_TIME = '/usr/bin/time';

export interface Measured {
  seconds: number;
  /** Peak resident set size of the command, in bytes (GNU time's "Maximum resident set size"). */
  peakRssBytes: number;
  stdout: string;
  stderr: string;
}

/** A command that failed: what ran, how it ended, and what it printed. */
export class CommandError extends Error {
  constructor(
    readonly command: string[],
    readonly exitCode: number | null,
    readonly output: string,
  ) {
    super(`command failed (${exitCode === null ? 'killed' : `exit ${exitCode}`}): ${command.join(' ')}\n${output.trim()}`);
  }
}

function parsePeakRss(report: string): number {
  const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(report);
  if (match === null) throw new Error(`${GNU_TIME} -v printed no "Maximum resident set size":\n${report}`);
  return Number(match[1]) * 1024;
}

/** Run `command` under `/usr/bin/time -v`; a non-zero exit throws CommandError. */
export function runMeasured(command: string[], options: { cwd?: string } = {}): Measured {
  const reportDir = mkdtempSync(join(tmpdir(), 'dib-pypi-time-'));
  const reportFile = join(reportDir, 'time.txt');
  try {
    const start = process.hrtime.bigint();
    const result = spawnSync(GNU_TIME, ['-v', '-o', reportFile, ...command], { cwd: options.cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (result.error !== undefined) throw new CommandError(command, null, String(result.error));
    if (result.status !== 0) throw new CommandError(command, result.status, `${result.stderr}\n${result.stdout}`);
    return { seconds, peakRssBytes: parsePeakRss(readFileSync(reportFile, 'utf8')), stdout: result.stdout, stderr: result.stderr };
  } finally {
    rmSync(reportDir, { recursive: true, force: true });
  }
}

/** Run `command` plainly (in `env` when given); a non-zero exit throws CommandError. Returns stdout. */
export function runChecked(command: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const [file, ...args] = command;
  if (file === undefined) throw new Error('runChecked: empty command');
  const result = spawnSync(file, args, { cwd: options.cwd, env: options.env ?? process.env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.error !== undefined) throw new CommandError(command, null, String(result.error));
  if (result.status !== 0) throw new CommandError(command, result.status, `${result.stderr}\n${result.stdout}`);
  return result.stdout;
}
