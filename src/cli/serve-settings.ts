// `dib-pypi serve`'s flags in layers, as a server in a container or a unit is configured: flags,
// then DIB_PYPI_SERVE_* variables, then a TOML file (--config FILE or DIB_PYPI_SERVE_CONFIG).
import { readFileSync } from 'node:fs';
import { InternalError, UsageError } from '../errors.js';
import { redact } from '../redact.js';
import { isServeValues, SERVE_OPTIONS, serveFlagsOf, type ServeCommandLine, type ServeFlags } from './commands/serve-options.js';
import { envNameOf, layerSettings, POSITIONAL_KEY, settingsFromEnv, settingsFromToml, type Settings, type SettingValue } from './settings-layers.js';

export const SERVE_ENV_PREFIX = 'DIB_PYPI_SERVE_';
/** Flags that do one thing and exit, or that name the file itself: never from the environment or the file. */
const COMMAND_LINE_ONLY = new Set(['print-config', 'nginx-conf', 'nginx-prefix', 'help']);
const NOT_IN_FILE = new Set([...COMMAND_LINE_ONLY, 'config']);

/** The flags as given on the command line, by flag name (`dir` for the positional). */
function commandLineLayer(commandLine: ServeCommandLine): Settings {
  const layer: Settings = {};
  for (const [flag, value] of Object.entries(commandLine.values)) if (value !== undefined) layer[flag] = value;
  if (commandLine.positionals[0] !== undefined) layer[POSITIONAL_KEY] = commandLine.positionals[0];
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
export function layeredServeFlags(commandLine: ServeCommandLine, env: Record<string, string | undefined>): ServeFlags & { settings: Settings } {
  const given = commandLineLayer(commandLine);
  const fromEnv = settingsFromEnv(SERVE_OPTIONS, env, SERVE_ENV_PREFIX, COMMAND_LINE_ONLY);
  const configPath = (given.config ?? fromEnv.config) as string | undefined;
  const fromFile =
    configPath === undefined
      ? {}
      : settingsFromToml(
          SERVE_OPTIONS,
          readConfig(configPath, given.config !== undefined ? '--config' : envNameOf(SERVE_ENV_PREFIX, 'config')),
          configPath,
          'serve',
          NOT_IN_FILE,
        );
  const settings = layerSettings(given, fromEnv, fromFile);
  const { [POSITIONAL_KEY]: dir, ...values } = settings;
  // settingsFromEnv and settingsFromToml give each flag the type its spec says: a mismatch is a bug.
  if (!isServeValues(values)) throw new InternalError(`serve settings that the flags do not declare: ${JSON.stringify(Object.keys(values))}`);
  return { ...serveFlagsOf(values, typeof dir === 'string' ? [dir] : []), settings };
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
