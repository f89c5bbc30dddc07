// `dib-pypi exec [--mirror DIR | plan flags] -- CMD...`: run CMD with pip (and uv) pointed at the plan through its environment.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DibPypiError, UsageError } from '../errors.js';
import { competingVariables, pipEnvironment, renderExecPipConf, withoutCompeting } from '../inject/render-env.js';
import { readLock } from '../targets/read-lock.js';
import { FORWARDED_SIGNALS, runForwardingSignals } from '../targets/run-forwarding-signals.js';
import { warn, warnAll } from './output.js';
import { planFromCli } from './plan-input.js';
import { withMirrorDir } from './mirror-dir-flag.js';
import type { ExecOptions } from './commands/exec.js';

/** CMD could not be started: 127 when it is not found, 126 when it is not executable (as sh). */
class CommandNotStartedError extends DibPypiError {
  override readonly exitCode: number;
  constructor(message: string, exitCode: number, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

/**
 * The plan's pip.conf goes to a private temp directory (0700, file 0600) named by PIP_CONFIG_FILE,
 * never to $HOME, /etc or the working directory; the plan's values are also set as PIP_* and UV_*
 * variables, which beat every file. The directory is removed when CMD ends, whatever ends it.
 */
export async function runExec(flags: ExecOptions): Promise<void> {
  const [command, ...args] = flags.positionals as [string, ...string[]];
  const plan = await planFromCli(withMirrorDir(flags, process.cwd()), withoutCompeting(process.env), process.cwd());
  warnAll(plan.warnings);
  const lock = flags.lock === undefined ? undefined : readLock(flags.lock);
  // From here to the end, a signal must not kill us before the directory is gone: one that comes
  // before CMD starts waits in the event loop and is then forwarded to CMD.
  const hold = () => {};
  for (const signal of FORWARDED_SIGNALS) process.on(signal, hold);
  const dir = mkdtempSync(join(tmpdir(), 'dib-pypi-exec-'));
  try {
    // The copy is the text checked above, and CMD cannot change the user's lock through it.
    const lockFile = lock === undefined ? undefined : writeLockCopy(dir, lock.text);
    const configFile = join(dir, 'pip.conf');
    writeFileSync(configFile, renderExecPipConf(plan, lockFile), { mode: 0o600, flag: 'wx' });
    const vars = pipEnvironment(plan, configFile, lockFile);
    for (const c of competingVariables(process.env, vars)) {
      warn(
        c.isReplaced
          ? `${c.name}=${c.value} is set: replaced for CMD by the plan's value`
          : `${c.name}=${c.value} is set and stays in CMD's environment: pip or uv may bypass the mirror`,
      );
    }
    const env = { ...process.env, ...Object.fromEntries(vars.map((v) => [v.name, v.value])) };
    process.exitCode = await runCommand(command, args, env);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    for (const signal of FORWARDED_SIGNALS) process.off(signal, hold);
  }
}

/** pip splits PIP_CONSTRAINT (a list option) on whitespace: the copy's path must have none. */
function writeLockCopy(dir: string, text: string): string {
  const file = join(dir, 'requirements.lock');
  if (/\s/.test(file))
    throw new UsageError(
      `the temp directory ${JSON.stringify(dir)} has whitespace in its path, which pip would split PIP_CONSTRAINT on: set TMPDIR to another directory`,
      '--lock',
    );
  writeFileSync(file, text, { mode: 0o400, flag: 'wx' });
  return file;
}

async function runCommand(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  try {
    return await runForwardingSignals(command, args, { stdio: 'inherit', env });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CommandNotStartedError(`command not found: ${command}`, 127, { cause: error });
    if (code === 'EACCES') throw new CommandNotStartedError(`permission denied: ${command}`, 126, { cause: error });
    throw new CommandNotStartedError(`cannot run ${command}: ${code ?? (error as Error).message}`, 126, { cause: error });
  }
}
