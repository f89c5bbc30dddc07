// A `mirror sync --config FILE`: TOML (smol-toml) or INI (ini), top level or a [sync] section, the same names as the flags.
import { parse as parseIni } from 'ini';
import { parse as parseToml } from 'smol-toml';
import { UsageError } from '../../errors.js';
import { SYNC_KEYS, type RawOptions } from './options.js';

type Table = Record<string, unknown>;

function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** TOML for `.toml`, INI for `.ini`/`.cfg`/`.conf`; otherwise TOML, then INI. */
function parseText(text: string, path: string): Table {
  const isToml = path.endsWith('.toml');
  const isIni = /\.(ini|cfg|conf)$/.test(path);
  if (!isIni) {
    try {
      return parseToml(text) as Table;
    } catch (error) {
      if (isToml) throw new UsageError(`not valid TOML: ${(error as Error).message.split('\n')[0]}`, path);
    }
  }
  return parseIni(text) as Table;
}

/** One value as RawOptions holds it: lists from TOML arrays, INI `key[]` or comma/space separated text. */
function convert(key: string, value: unknown, path: string): RawOptions[string] {
  const kind = SYNC_KEYS[key];
  const bad = () => new UsageError(`${key}: unexpected value ${JSON.stringify(value)}`, path);
  if (kind === 'boolean') {
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    throw bad();
  }
  if (kind === 'list') {
    if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) return value.map(String);
    if (typeof value === 'string' || typeof value === 'number')
      return String(value)
        .split(/[\s,]+/)
        .filter((v) => v !== '');
    throw bad();
  }
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  throw bad();
}

/** The options of a config file's text; an unknown key is a usage error naming the file. */
export function parseSyncConfig(text: string, path: string): RawOptions {
  const data = parseText(text, path);
  const section = isTable(data.sync) ? data.sync : data;
  const options: RawOptions = {};
  for (const [rawKey, value] of Object.entries(section)) {
    if (section === data && rawKey === 'sync') continue;
    const key = rawKey.replace(/\[\]$/, '').replaceAll('_', '-');
    if (isTable(value) && section === data) throw new UsageError(`unknown section [${rawKey}] (options go at the top or in [sync])`, path);
    if (!(key in SYNC_KEYS)) throw new UsageError(`unknown option ${JSON.stringify(rawKey)} (known: ${Object.keys(SYNC_KEYS).join(', ')})`, path);
    options[key] = convert(key, value, path);
  }
  return options;
}
