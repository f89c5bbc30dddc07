// `mirror sync` options: flags and a --config file (TOML or INI) merged, flags first, each value checked once. Pure.
// A bad value is an InputError named as its option (`python-version`): the CLI names the flag.
import { InputError, UsageError } from '../../errors.js';
import { parseSize } from '../../parse-size.js';
import { parseUpstreamUrl } from '../../upstream/upstream-url.js';
import { isValidProjectName } from '../../pypi/project-name.js';
import type { SyncFilters } from './filters.js';

/** Options as flags or a config file give them (kebab-case names, as on the command line). */
export type RawOptions = Record<string, string | boolean | string[] | undefined>;

export interface SyncOptions {
  dir: string;
  upstream: string;
  /** Names asked for (--project, --requirements); empty: every project of the root page. */
  projects: string[];
  filters: SyncFilters;
  jobs: number;
  isDelete: boolean;
  isDryRun: boolean;
  timeoutMs: number;
  retries: number;
}

/** Every option a config file may hold, with whether it repeats. */
export const SYNC_KEYS: Record<string, 'string' | 'list' | 'boolean'> = {
  upstream: 'string',
  project: 'list',
  requirements: 'list',
  'python-version': 'list',
  platform: 'list',
  'package-type': 'list',
  extension: 'list',
  latest: 'string',
  pre: 'boolean',
  exclude: 'list',
  'max-file-size': 'string',
  jobs: 'string',
  delete: 'boolean',
  timeout: 'string',
  retries: 'string',
};

/** Flags beat the file, option by option (a repeated flag replaces the file's whole list). */
export function mergeOptions(flags: RawOptions, file: RawOptions): RawOptions {
  const merged: RawOptions = { ...file };
  for (const [key, value] of Object.entries(flags)) if (value !== undefined) merged[key] = value;
  return merged;
}

/** Names from requirement lines (`name[extra]>=1; marker`, `name @ url`); options, comments and blank lines skipped. */
export function parseRequirementNames(text: string, source: string): string[] {
  const names: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '' || line.startsWith('-')) return;
    const match = /^([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(line);
    if (!match || !isValidProjectName(match[1] as string)) throw new UsageError(`line ${i + 1}: not a requirement: ${JSON.stringify(line)}`, source);
    names.push(match[1] as string);
  });
  return names;
}

function list(value: RawOptions[string]): string[] {
  if (value === undefined || typeof value === 'boolean') return [];
  return Array.isArray(value) ? value : [value];
}

function integer(value: RawOptions[string], name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value.trim()) || n < min || n > max)
    throw new InputError(name, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

/** `3`, `3.11`, `3.11.2`, `311` -> `3` / `3.11`. */
export function parsePythonVersion(value: string): string {
  const v = value.trim();
  if (/^\d{3,}$/.test(v)) return `${v[0]}.${v.slice(1)}`;
  const match = /^(\d+)(?:\.(\d+))?(?:\.\d+)?$/.exec(v);
  if (!match) throw new InputError('python-version', `expected a version such as 3.11, got ${JSON.stringify(value)}`);
  return match[2] === undefined ? (match[1] as string) : `${match[1]}.${match[2]}`;
}

function parseFilters(raw: RawOptions): SyncFilters {
  const packageTypes = list(raw['package-type']).map((t) => {
    if (t !== 'wheel' && t !== 'sdist') throw new InputError('package-type', `expected wheel or sdist, got ${JSON.stringify(t)}`);
    return t;
  });
  const platforms = list(raw.platform).map((p) => {
    if (!/^[A-Za-z0-9_.]+$/.test(p)) throw new InputError('platform', `not a platform tag: ${JSON.stringify(p)}`);
    return p.toLowerCase().replaceAll('-', '_').replaceAll('.', '_');
  });
  const extensions = list(raw.extension).map((e) => {
    if (!/^\.?[A-Za-z0-9.]+$/.test(e)) throw new InputError('extension', `not a file extension: ${JSON.stringify(e)}`);
    return e.startsWith('.') ? e : `.${e}`;
  });
  const filters: SyncFilters = {
    pythonVersions: list(raw['python-version']).map(parsePythonVersion),
    platforms,
    packageTypes,
    extensions,
    isPreIncluded: raw.pre === true,
    exclude: list(raw.exclude),
  };
  const latest = integer(raw.latest, 'latest', 1, 1_000_000);
  if (latest !== undefined) filters.latest = latest;
  if (typeof raw['max-file-size'] === 'string') filters.maxFileSize = parseSize(raw['max-file-size'], 'max-file-size');
  return filters;
}

/** The merged options, validated. `requirementNames` are the names already read from --requirements files. */
export function buildSyncOptions(dir: string, raw: RawOptions, requirementNames: string[]): SyncOptions {
  const upstream = raw.upstream;
  // The CLI reports a missing upstream itself, in its words; this guards other callers.
  if (typeof upstream !== 'string' || upstream === '') throw new InputError('upstream', 'not given');
  parseUpstreamUrl(upstream); // throws an InputError of `upstream`
  const projects = [...list(raw.project), ...requirementNames];
  for (const name of projects) if (!isValidProjectName(name)) throw new InputError('project', `not a project name: ${JSON.stringify(name)}`);
  return {
    dir,
    upstream,
    projects,
    filters: parseFilters(raw),
    jobs: integer(raw.jobs, 'jobs', 1, 256) ?? 8,
    isDelete: raw.delete === true,
    isDryRun: raw['dry-run'] === true,
    timeoutMs: (integer(raw.timeout, 'timeout', 1, 3600) ?? 30) * 1000,
    retries: integer(raw.retries, 'retries', 0, 100) ?? 4,
  };
}
