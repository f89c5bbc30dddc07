// Plan -> environment variables for pip (and uv), and those variables as sh, fish, GitHub env-file or dotenv text. Pure.
import { UsageError } from '../errors.js';
import type { EnvMap, Plan } from '../plan/types.js';
import { lockSettings, renderPipConf } from './render-pip-conf.js';

export type EnvFormat = 'sh' | 'fish' | 'github' | 'dotenv';
export const ENV_FORMATS: readonly EnvFormat[] = ['sh', 'fish', 'github', 'dotenv'];

/** One variable to set; `value` may carry credentials (index URLs). */
export interface EnvVariable {
  name: string;
  value: string;
}

/**
 * The variables that point pip and uv at the plan. pip reads PIP_* after every config file and
 * after command sections (`[install] index-url`), so they win over anything on the machine;
 * PIP_CONFIG_FILE names one file and makes pip skip the user's files (`/dev/null`: no file at
 * all, pip's configuration.py). PIP_EXTRA_INDEX_URL and PIP_TRUSTED_HOST are set even when empty:
 * pip splits the value on whitespace, so '' clears what the environment had. uv ignores pip.conf
 * and PIP_*: it gets UV_INDEX_URL and UV_EXTRA_INDEX_URL (space-separated), which every uv reads.
 */
export function pipEnvironment(plan: Plan, configFile: string, lockFile?: string): EnvVariable[] {
  const extras = plan.extraIndexUrls.map((i) => i.url).join(' ');
  const vars: EnvVariable[] = [
    { name: 'PIP_CONFIG_FILE', value: configFile },
    { name: 'PIP_INDEX_URL', value: plan.indexUrl.url },
    { name: 'PIP_EXTRA_INDEX_URL', value: extras },
    { name: 'PIP_TRUSTED_HOST', value: plan.trustedHosts.join(' ') },
  ];
  if (plan.retries !== undefined) vars.push({ name: 'PIP_RETRIES', value: String(plan.retries.value) });
  // The lock's settings (render-pip-conf.ts, lockSettings: why both) as variables too, so that no
  // `[install]` section of a global or virtualenv pip.conf can turn them off.
  if (lockFile !== undefined)
    for (const [key, value] of Object.entries(lockSettings(lockFile))) vars.push({ name: `PIP_${key.toUpperCase().replaceAll('-', '_')}`, value });
  vars.push({ name: 'UV_INDEX_URL', value: plan.indexUrl.url });
  // uv may refuse an empty value; no extra index means: leave the variable out.
  if (extras !== '') vars.push({ name: 'UV_EXTRA_INDEX_URL', value: extras });
  return vars;
}

/** The plan's pip.conf for `dib-pypi exec`: renderPipConf's settings under a header that says what the file is. */
export function renderExecPipConf(plan: Plan, lockFile?: string): string {
  return '# Written by dib-pypi exec for one command; removed when it ends.\n' + renderPipConf(plan, { lock: lockFile }).replace(/^#.*\n/, '');
}

/** Variables that change where pip or uv look for packages, besides the ones pipEnvironment sets. */
const COMPETING_VARIABLES = [
  'PIP_CONFIG_FILE',
  'PIP_INDEX_URL',
  'PIP_EXTRA_INDEX_URL',
  'PIP_TRUSTED_HOST',
  'PIP_NO_INDEX',
  'PIP_FIND_LINKS',
  'PIP_ISOLATED_MODE',
  'UV_INDEX_URL',
  'UV_EXTRA_INDEX_URL',
  'UV_DEFAULT_INDEX',
  'UV_INDEX',
  'UV_FIND_LINKS',
  'UV_NO_INDEX',
];

/** What is already set in `env` that competes with `vars`: either replaced by them, or left as it is (and still read). */
export function competingVariables(env: EnvMap, vars: readonly EnvVariable[]): { name: string; value: string; isReplaced: boolean }[] {
  const set = new Set(vars.map((v) => v.name));
  const found: { name: string; value: string; isReplaced: boolean }[] = [];
  for (const name of COMPETING_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value !== '') found.push({ name, value, isReplaced: set.has(name) });
  }
  return found;
}

/** `env` without the competing variables: the plan is built from it so its own PIP_* warnings stay out. */
export function withoutCompeting(env: EnvMap): EnvMap {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !COMPETING_VARIABLES.includes(name)));
}

/** The variables as text in `format`, one assignment each, in the given order; values are written as they are (credentials included). */
export function renderEnv(vars: readonly EnvVariable[], format: EnvFormat): string {
  return vars.map((v) => RENDERERS[format](v.name, v.value)).join('');
}

const RENDERERS: Record<EnvFormat, (name: string, value: string) => string> = {
  sh: (name, value) => `export ${name}=${quoteSh(value)}\n`,
  fish: (name, value) => `set -gx ${name} ${quoteFish(value)}\n`,
  github: githubLine,
  dotenv: (name, value) => `${name}=${quoteDotenv(name, value)}\n`,
};

/** POSIX sh: inside single quotes nothing is special; a quote is closed, escaped and reopened. */
export function quoteSh(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

/** fish: inside single quotes only \\ and \' are escapes (fish-shell docs, "Quotes"); newlines stay literal. */
export function quoteFish(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/**
 * GitHub Actions $GITHUB_ENV: `NAME=value` on one line; a value with a line break uses
 * `NAME<<DELIMITER`, the lines, then `DELIMITER` alone (docs "Multiline strings"). The delimiter
 * is one that occurs nowhere in the value.
 */
function githubLine(name: string, value: string): string {
  if (!/[\r\n]/.test(value)) return `${name}=${value}\n`;
  let delimiter = 'DIB_PYPI_EOF';
  for (let n = 1; value.includes(delimiter); n++) delimiter = `DIB_PYPI_EOF_${n}`;
  return `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
}

/**
 * dotenv (the `dotenv` package's parse): '...' and `...` are literal (line breaks included) but
 * cannot hold their own quote; "..." turns \n and \r into line breaks and nothing else. parse
 * turns every CR into a line break before anything else, so a CR survives only as "\r".
 */
export function quoteDotenv(name: string, value: string): string {
  const hasCr = value.includes('\r');
  if (!hasCr && !value.includes("'")) return `'${value}'`;
  if (!hasCr && !value.includes('`')) return `\`${value}\``;
  if (!value.includes('"') && !/\\[nr]/.test(value)) return `"${value.replaceAll('\n', '\\n').replaceAll('\r', '\\r')}"`;
  throw new UsageError('this value cannot be written in dotenv format (it holds \', ` and " together with a line break or \\n): use --format sh', name);
}
