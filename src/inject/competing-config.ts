// Find pip configuration in a root that configure leaves alone but that would beat the plan for some user.
import { closeSync, constants, fstatSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import ini from 'ini';
import { redact } from '../redact.js';
import { withPinnedParent } from '../fs/pinned-dir.js';
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
    // Through the pinned directory, never following a link in the name: a user's swapped ~/.pip cannot make root read a host file.
    return withPinnedParent(root, posix.join(dir.existing, posix.basename(path)), (pinned, name) => {
      const fd = openSync(pinned.entry(name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      try {
        const stat = fstatSync(fd);
        if (!stat.isFile() || stat.size > MAX_CONFIG_BYTES) return undefined;
        return readFileSync(fd, 'utf8');
      } finally {
        closeSync(fd);
      }
    });
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
        warnings.push(
          redact(`${path} sets ${settings.join(', ')}: pip run as ${user} will not use the mirror (only ${home} and /etc/pip.conf are configured)`),
        );
      }
    }
  }
  return warnings;
}
