// Find pip configuration in a root that configure leaves alone but that would beat the plan for some user.
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import ini from 'ini';
import { redact } from '../redact.js';
import { resolveDirInRoot } from '../fs/resolve-in-root.js';

const INDEX_KEYS = new Set(['index-url', 'extra-index-url', 'no-index', 'find-links']);
const MAX_CONFIG_BYTES = 1 << 20;

/** Index settings in an ini text, as `[section] key`, keys normalised the way pip does (`_` -> `-`). */
export function indexSettingsIn(text: string): string[] {
  const found: string[] = [];
  const parsed = ini.parse(text) as Record<string, unknown>;
  for (const [section, values] of Object.entries(parsed)) {
    if (typeof values !== 'object' || values === null) continue;
    for (const key of Object.keys(values)) {
      const name = key.toLowerCase().replaceAll('_', '-').replace(/^--/, '');
      if (INDEX_KEYS.has(name)) found.push(`[${section}] ${name}`);
    }
  }
  return found.sort();
}

function readInRoot(root: string, path: string): string | undefined {
  try {
    const dir = resolveDirInRoot(root, posix.dirname(path));
    if (dir.missing.length > 0) return undefined;
    const host = join(root, dir.existing, posix.basename(path));
    const stat = lstatSync(host);
    if (!stat.isFile() || stat.size > MAX_CONFIG_BYTES) return undefined;
    return readFileSync(host, 'utf8');
  } catch {
    return undefined;
  }
}

/** Warnings for other users' pip config files under /home that set an index. */
export function findCompetingConfig(root: string, home: string): string[] {
  const warnings: string[] = [];
  let users: string[] = [];
  try {
    const homes = resolveDirInRoot(root, '/home');
    if (homes.missing.length === 0) users = readdirSync(join(root, homes.existing)).sort();
  } catch {
    return warnings;
  }
  for (const user of users) {
    const userHome = posix.join('/home', user);
    if (userHome === home) continue;
    for (const file of ['.pip/pip.conf', '.config/pip/pip.conf']) {
      const path = posix.join(userHome, file);
      const text = readInRoot(root, path);
      if (text === undefined) continue;
      const settings = indexSettingsIn(text);
      if (settings.length > 0) {
        warnings.push(redact(`${path} sets ${settings.join(', ')}: pip run as ${user} will not use the mirror (only ${home} and /etc/pip.conf are configured)`));
      }
    }
  }
  return warnings;
}
