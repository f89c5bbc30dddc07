// `--upload-auth FILE`: the htpasswd file of the users who may upload, read and checked once at start.
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { parseHtpasswd } from '../server/credentials.js';

/** The users of the htpasswd file at `path` (user -> bcrypt hash); a warning joins `warnings` when their bcrypt costs differ. */
export function readUploadUsers(path: string, warnings: string[]): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${JSON.stringify(path)}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, '--upload-auth');
  }
  const users = parseHtpasswd(text, path);
  if (users.size === 0) throw new UsageError(`${JSON.stringify(path)} lists no users`, '--upload-auth');
  const costs = new Set([...users.values()].map((hash) => hash.slice(4, 6)));
  if (costs.size > 1)
    warnings.push(
      `${path}: the users' bcrypt costs differ (${[...costs].sort().join(', ')}): how long a wrong password takes tells users apart; give all the same (htpasswd -B -C N)`,
    );
  return users;
}
