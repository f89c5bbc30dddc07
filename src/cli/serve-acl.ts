// `--acl FILE`: the upload ACL, read once at start: bounded, trusted (owned by root or us, writable
// by no one else, as the state dib-pypi obeys), parsed (src/server/acl-file.ts) and checked against the users.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { untrustedFile } from '../fs/trust-file.js';
import { trustedOwners } from '../fs/trust-dir.js';
import { parseUploadAcl, type UploadAcl } from '../server/acl-file.js';
import { TOKEN_USER } from '../server/credentials.js';

/** An ACL file is a few lines per team: one past this is a mistake (or an attack on start-up), refused unread. */
export const MAX_ACL_BYTES = 1024 * 1024;

function readBounded(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    if (!fstatSync(fd).isFile()) throw new UsageError(`${JSON.stringify(path)} is not a regular file`, '--acl');
    const buffer = Buffer.alloc(MAX_ACL_BYTES + 1);
    let length = 0;
    for (let n = -1; n !== 0 && length < buffer.length; length += n) n = readSync(fd, buffer, length, buffer.length - length, null);
    if (length > MAX_ACL_BYTES) throw new UsageError(`${JSON.stringify(path)} is larger than ${MAX_ACL_BYTES} bytes: not an ACL file`, '--acl');
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

/**
 * The ACL at `path`, and the uids trusted to own the owners file. Warns (into `warnings`) of users the
 * ACL names who cannot log in: not in the htpasswd file (a typo, or another Unicode spelling), or
 * __token__ without a token set.
 */
export function readUploadAcl(
  path: string,
  logins: { users: ReadonlyMap<string, string>; hasToken: boolean },
  env: Record<string, string | undefined>,
  warnings: string[],
): { rules: UploadAcl; trustedUids: ReadonlySet<number> } {
  const trustedUids = trustedOwners(env, process.getuid?.() ?? 0);
  let bytes: Buffer;
  try {
    const untrusted = untrustedFile(path, trustedUids);
    if (untrusted !== undefined)
      throw new UsageError(`untrusted ACL file: ${untrusted.path} ${untrusted.reason}; whoever can write it decides who may upload`, '--acl');
    bytes = readBounded(path);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read ${JSON.stringify(path)}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, '--acl');
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`${JSON.stringify(path)} is not UTF-8 text`, '--acl');
  }
  const rules = parseUploadAcl(text, path);
  for (const [user, line] of rules.users) {
    const canLogIn = logins.users.has(user) || (user === TOKEN_USER && logins.hasToken);
    if (!canLogIn)
      warnings.push(
        user === TOKEN_USER
          ? `${path} line ${line} names ${TOKEN_USER}, but DIB_PYPI_UPLOAD_TOKEN is not set`
          : `${path} line ${line} names user ${JSON.stringify(user)}, who is not in the --upload-auth file`,
      );
  }
  return { rules, trustedUids };
}
