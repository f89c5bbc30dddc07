// `dib-pypi serve`'s flags in layers, as a server in a container or a unit is configured: flags,
// then DIB_PYPI_SERVE_* variables, then a TOML file (--config FILE or DIB_PYPI_SERVE_CONFIG).
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { redact } from '../redact.js';
import { COMMANDS } from './commands.js';
import { envNameOf, layerSettings, POSITIONAL_KEY, settingsFromEnv, settingsFromToml, type Settings, type SettingValue } from './settings-layers.js';

export const SERVE_ENV_PREFIX = 'DIB_PYPI_SERVE_';
/** Flags that do one thing and exit, or that name the file itself: never from the environment or the file. */
const COMMAND_LINE_ONLY = new Set(['print-config', 'nginx-conf', 'nginx-prefix', 'help']);
const NOT_IN_FILE = new Set([...COMMAND_LINE_ONLY, 'config']);

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

function serveOptions() {
  return (COMMANDS.serve as (typeof COMMANDS)[string]).options;
}

/** The flags as given on the command line, by flag name (`dir` for the positional). */
function commandLineLayer(flags: Record<string, unknown>): Settings {
  const layer: Settings = {};
  for (const flag of Object.keys(serveOptions())) {
    const value = flags[camel(flag)];
    if (value !== undefined) layer[flag] = value as SettingValue;
  }
  const positionals = (flags.positionals as string[] | undefined) ?? [];
  if (positionals[0] !== undefined) layer[POSITIONAL_KEY] = positionals[0];
  return layer;
}

function readConfig(path: string, source: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the config file ${JSON.stringify(path)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, source);
  }
}

/** The effective flags: the command line beats the environment, which beats the config file. */
export function layeredServeFlags<T extends { positionals: string[] }>(flags: T, env: Record<string, string | undefined>): T & { settings: Settings } {
  const options = serveOptions();
  const given = commandLineLayer(flags as unknown as Record<string, unknown>);
  const fromEnv = settingsFromEnv(options, env, SERVE_ENV_PREFIX, COMMAND_LINE_ONLY);
  const configPath = (given.config ?? fromEnv.config) as string | undefined;
  const fromFile = configPath === undefined ? {} : settingsFromToml(options, readConfig(configPath, given.config !== undefined ? '--config' : envNameOf(SERVE_ENV_PREFIX, 'config')), configPath, 'serve', NOT_IN_FILE);
  const settings = layerSettings(given, fromEnv, fromFile);
  const result: Record<string, unknown> = { positionals: settings[POSITIONAL_KEY] === undefined ? [] : [settings[POSITIONAL_KEY]], settings };
  for (const [flag, value] of Object.entries(settings)) if (flag !== POSITIONAL_KEY) result[camel(flag)] = value;
  return result as T & { settings: Settings };
}

function tomlString(value: string): string {
  return JSON.stringify(redact(value));
}

/**
 * The effective settings as a TOML file that `--config` reads back (secrets redacted: a URL's
 * password is `***`, the upload token is only said to be set).
 */
export function renderSettings(settings: Settings, env: Record<string, string | undefined>): string {
  const lines = ['# dib-pypi serve: the effective settings (flags > DIB_PYPI_SERVE_* > config file)'];
  for (const flag of Object.keys(settings).sort()) {
    if (NOT_IN_FILE.has(flag)) continue;
    const value = settings[flag] as SettingValue;
    const text = typeof value === 'boolean' ? String(value) : Array.isArray(value) ? `[${value.map(tomlString).join(', ')}]` : tomlString(value);
    lines.push(`${flag} = ${text}`);
  }
  if ((env.DIB_PYPI_UPLOAD_TOKEN ?? '') !== '') lines.push('# DIB_PYPI_UPLOAD_TOKEN is set (not shown): uploads for user __token__');
  return lines.join('\n') + '\n';
}
