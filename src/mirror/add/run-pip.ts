// Run the host's pip through execa, isolated from every pip config file and PIP_* variable, streaming its lines.
import { execa } from 'execa';
import { CommandFailedError, InputError } from '../../errors.js';
import type { EnvMap } from '../../plan/types.js';
import { redact } from '../../redact.js';

/** What the interpreter that runs pip is. */
export interface PythonInfo {
  pipVersion: string;
  /** `3.11` */
  pythonVersion: string;
  /** `sys.platform`: `linux`, `win32`, `darwin`. */
  sysPlatform: string;
}

/**
 * `env` without PIP_* variables, PIP_CONFIG_FILE=/dev/null (pip then loads no config file at all,
 * not even the global ones `--isolated` still reads: pip/_internal/configuration.py), and
 * unbuffered Python output so lines arrive while pip works. `SOURCE_DATE_EPOCH` (unless set)
 * makes wheels built from sdists byte-for-byte repeatable (wheel's bdist_wheel honours it).
 */
export function pipEnv(env: EnvMap): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && !name.startsWith('PIP_')) clean[name] = value;
  }
  return { SOURCE_DATE_EPOCH: '315532800', ...clean, PIP_CONFIG_FILE: '/dev/null', PYTHONUNBUFFERED: '1' };
}

/** A command line a user can paste: arguments quoted for sh where needed, credentials redacted. */
export function formatCommand(file: string, args: readonly string[]): string {
  const quote = (arg: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`);
  return [file, ...args].map((arg) => redact(quote(arg))).join(' ');
}

export interface PipRun {
  python: string;
  args: string[];
  cwd: string;
  env: EnvMap;
  /** Each line of pip's stdout and stderr, as it arrives. */
  onLine?: (line: string) => void;
}

export interface PipOutcome {
  exitCode: number | undefined;
  /** stdout and stderr lines, interleaved in arrival order. */
  lines: string[];
  command: string;
}

/** Run pip; never throws for pip's own failure (look at `exitCode`), only when the interpreter cannot start. */
export async function runPip(run: PipRun): Promise<PipOutcome> {
  const lines: string[] = [];
  // An execa transform that yields nothing: each line is kept and reported, none is printed.
  // biome-ignore lint/correctness/useYield: the lines are consumed, not passed on
  const collect = function* (line: unknown) {
    const text = String(line);
    lines.push(text);
    run.onLine?.(text);
  };
  const result = await execa(run.python, run.args, {
    cwd: run.cwd,
    env: pipEnv(run.env),
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    stdout: collect,
    stderr: collect,
    buffer: false,
  });
  const command = formatCommand(run.python, run.args);
  const code = (result.cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'EACCES') {
    throw new InputError('python', `cannot run ${JSON.stringify(run.python)}: ${code === 'ENOENT' ? 'not found' : 'permission denied'}`, {
      cause: result.cause,
    });
  }
  return { exitCode: result.exitCode, lines, command };
}

/** The error for a pip run that failed: what and why on the first line, then the command and pip's whole output. */
export function pipFailure(summary: string, outcome: PipOutcome): CommandFailedError {
  const output = outcome.lines.join('\n');
  const how = outcome.exitCode === undefined ? 'killed' : `exit code ${outcome.exitCode}`;
  const message = `${summary} (${how})\ncommand: ${outcome.command}\npip output:\n${outcome.lines.map((l) => `  ${l}`).join('\n')}`;
  return new CommandFailedError(redact(message), { command: outcome.command, commandExitCode: outcome.exitCode, output: redact(output) });
}

const PROBE = 'import sys, pip; print(pip.__version__); print("%d.%d" % sys.version_info[:2]); print(sys.platform)';

/** Ask the interpreter for its pip and Python versions and platform; a clear error when it has no pip. */
export async function probePython(python: string, env: EnvMap, cwd: string): Promise<PythonInfo> {
  const outcome = await runPip({ python, args: ['-c', PROBE], cwd, env });
  const [pipVersion, pythonVersion, sysPlatform] = outcome.lines.map((l) => l.trim());
  if (outcome.exitCode !== 0 || !pipVersion || !pythonVersion || !sysPlatform) {
    throw new InputError(
      'python',
      `${JSON.stringify(python)} cannot run pip (install pip for it, or choose another interpreter):\n${outcome.lines.join('\n')}`,
    );
  }
  return { pipVersion, pythonVersion, sysPlatform };
}
