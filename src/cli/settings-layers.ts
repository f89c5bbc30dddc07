// A command's settings from three places, as servers are usually configured: flags beat
// environment variables (`DIB_PYPI_SERVE_PORT=8080`), which beat a TOML file (`port = 8080`). Pure:
// the caller reads the environment and the file; every bad value is a UsageError naming its source.
import type { ParseArgsConfig } from 'node:util';
import { parse as parseToml } from 'smol-toml';
import { UsageError } from '../errors.js';

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;
export type SettingValue = string | boolean | string[];
export type Settings = Record<string, SettingValue>;

/** The positional argument's key (the mirror directory), settable like a flag. */
export const POSITIONAL_KEY = 'dir';

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off', '']);

/** `max-page-size` -> `DIB_PYPI_SERVE_MAX_PAGE_SIZE` */
export function envNameOf(prefix: string, flag: string): string {
  return prefix + flag.toUpperCase().replace(/-/g, '_');
}

/**
 * The settings given by `<PREFIX><FLAG>` variables, for the flags in `options` that are not in
 * `excluded` (flags that only make sense on a command line). Booleans take 1/0, true/false, yes/no,
 * on/off; repeatable flags take their values separated by blanks or newlines.
 */
export function settingsFromEnv(
  options: OptionSpecs,
  env: Record<string, string | undefined>,
  prefix: string,
  excluded: ReadonlySet<string> = new Set(),
): Settings {
  const settings: Settings = {};
  const known = new Set([...Object.keys(options), POSITIONAL_KEY].map((flag) => envNameOf(prefix, flag)));
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith(prefix) || known.has(name)) continue;
    const settable = [...Object.keys(options), POSITIONAL_KEY].filter((flag) => !excluded.has(flag)).map((flag) => envNameOf(prefix, flag));
    throw new UsageError(`unknown variable (the settings are ${settable.sort().join(', ')})`, name);
  }
  for (const flag of [...Object.keys(options), POSITIONAL_KEY]) {
    const name = envNameOf(prefix, flag);
    const raw = env[name];
    if (raw === undefined) continue;
    if (excluded.has(flag)) throw new UsageError(`--${flag} is a command-line flag only`, name);
    const spec = options[flag];
    if (spec?.type === 'boolean') {
      const word = raw.trim().toLowerCase();
      if (TRUE.has(word)) settings[flag] = true;
      else if (FALSE.has(word)) settings[flag] = false;
      else throw new UsageError(`expected 1 or 0 (true/false, yes/no, on/off), got ${JSON.stringify(raw)}`, name);
    } else if (spec?.multiple === true) {
      settings[flag] = raw.split(/\s+/).filter((value) => value !== '');
    } else if (raw !== '') {
      settings[flag] = raw;
    }
  }
  return settings;
}

/**
 * The settings of a TOML file: the flags' names as keys (`max-page-size` or `max_page_size`), at
 * the top level or in a `[section]` table; `dir` for the positional argument. Numbers are taken as
 * their text, arrays for repeatable flags.
 */
export function settingsFromToml(options: OptionSpecs, text: string, path: string, section: string, excluded: ReadonlySet<string> = new Set()): Settings {
  let table: Record<string, unknown>;
  try {
    table = parseToml(text) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`not valid TOML: ${(error as Error).message.split('\n')[0]}`, path);
  }
  const nested = table[section];
  if (typeof nested === 'object' && nested !== null && !Array.isArray(nested)) {
    const { [section]: _section, ...rest } = table;
    table = { ...rest, ...(nested as Record<string, unknown>) };
  }
  const settings: Settings = {};
  for (const [key, value] of Object.entries(table)) {
    const flag = key.replace(/_/g, '-');
    const spec = options[flag];
    const where = `${path}: ${key}`;
    if (flag !== POSITIONAL_KEY && spec === undefined)
      throw new UsageError(
        `unknown setting (use the flags' names: ${Object.keys(options)
          .filter((f) => !excluded.has(f))
          .join(', ')}, ${POSITIONAL_KEY})`,
        where,
      );
    if (excluded.has(flag)) throw new UsageError(`--${flag} is a command-line flag only`, where);
    const bad = (wanted: string) => new UsageError(`expected ${wanted}, got ${JSON.stringify(value)}`, where);
    if (spec?.type === 'boolean') {
      if (typeof value !== 'boolean') throw bad('true or false');
      settings[flag] = value;
    } else if (spec?.multiple === true) {
      const list = Array.isArray(value) ? value : [value];
      if (!list.every((item) => typeof item === 'string')) throw bad('a string or an array of strings');
      settings[flag] = list as string[];
    } else {
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'bigint') throw bad('a string or a number');
      settings[flag] = String(value);
    }
  }
  return settings;
}

/** The first layer that sets a key wins (flags, then the environment, then the file). */
export function layerSettings(...layers: Settings[]): Settings {
  const merged: Settings = {};
  for (const layer of [...layers].reverse()) Object.assign(merged, layer);
  return merged;
}
