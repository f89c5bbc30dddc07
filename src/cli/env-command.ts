// `dib-pypi env [--format sh|fish|github|dotenv]`: the plan as variables for pip and uv, for `eval` or a CI env file.
import { UsageError } from '../errors.js';
import { competingVariables, ENV_FORMATS, pipEnvironment, withoutCompeting, renderEnv, type EnvFormat } from '../inject/render-env.js';
import { hasCredentials } from '../redact.js';
import { warn, warnAll } from './output.js';
import { planFromCli } from './plan-input.js';
import { withMirrorDir } from './mirror-dir-flag.js';
import type { EnvOptions } from './commands/env.js';

function parseFormat(raw: string | undefined): EnvFormat {
  const format = raw ?? 'sh';
  if (!(ENV_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`unknown format ${JSON.stringify(format)} (one of: ${ENV_FORMATS.join(', ')})`, '--format');
  }
  return format as EnvFormat;
}

/**
 * No temp file can outlive this command, so PIP_CONFIG_FILE is /dev/null: pip then reads no
 * config file at all and the job's result does not depend on the files of the machine it runs on.
 */
export async function runEnv(flags: EnvOptions): Promise<void> {
  const format = parseFormat(flags.format);
  const plan = await planFromCli(withMirrorDir(flags, process.cwd()), withoutCompeting(process.env), process.cwd());
  warnAll(plan.warnings);
  const vars = pipEnvironment(plan, '/dev/null');
  for (const c of competingVariables(process.env, vars)) {
    if (!c.isReplaced) warn(`${c.name}=${c.value} is set: these variables do not unset it, and pip or uv may bypass the mirror`);
  }
  const text = renderEnv(vars, format);
  // stdout is what the user asked for and must work: real values. Only this stderr line speaks of them.
  if (vars.some((v) => hasCredentials(v.value))) {
    warn('the output contains credentials from the index URLs: keep it out of logs and artifacts');
  }
  process.stdout.write(text);
}
