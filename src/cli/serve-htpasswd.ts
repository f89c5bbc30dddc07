// `--upload-auth FILE`, `--read-auth FILE`, `--metrics-auth FILE`: htpasswd files of users, read and checked once at start.
import { readFileSync } from 'node:fs';
import { InputError, UsageError } from '../errors.js';
import { parseHtpasswd } from '../server/credentials.js';

/** The users of the htpasswd file at `path` (user -> bcrypt hash), given by `flag`; a warning joins `warnings` when their bcrypt costs differ. */
export function readHtpasswdUsers(path: string, flag: string, warnings: string[]): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${JSON.stringify(path)}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, flag);
  }
  let users: Map<string, string>;
  try {
    users = parseHtpasswd(text, path);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    throw new UsageError(error.detail, flag, { cause: error });
  }
  if (users.size === 0) throw new UsageError(`${JSON.stringify(path)} lists no users`, flag);
  const costs = new Set([...users.values()].map((hash) => hash.slice(4, 6)));
  if (costs.size > 1)
    warnings.push(
      `${path}: the users' bcrypt costs differ (${[...costs].sort().join(', ')}): how long a wrong password takes tells users apart; give all the same (htpasswd -B -C N)`,
    );
  return users;
}

/** The users who may upload (`--upload-auth`). */
export function readUploadUsers(path: string, warnings: string[]): Map<string, string> {
  return readHtpasswdUsers(path, '--upload-auth', warnings);
}
