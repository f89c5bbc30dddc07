// Who may upload: an htpasswd file with bcrypt entries (`htpasswd -B`) and/or a token (user `__token__`).
import { createHash, timingSafeEqual } from 'node:crypto';
import { UsageError } from '../errors.js';

export interface Credentials {
  /** user -> bcrypt hash */
  users: Map<string, string>;
  /** The upload token (password of user `__token__`), when one is set. */
  token?: string;
}

export const TOKEN_USER = '__token__';
const BCRYPT = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/;

/**
 * Parse an htpasswd file. Only bcrypt entries are accepted: the MD5 (`$apr1$`), SHA-1 (`{SHA}`),
 * crypt and plain-text forms are weak, and a file that mixes them in is refused as a whole.
 */
export function parseHtpasswd(text: string, source: string): Map<string, string> {
  const users = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    const where = `${source} line ${index + 1}`;
    if (colon <= 0) throw new UsageError(`${where}: expected user:hash`, '--upload-auth');
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    if (!BCRYPT.test(hash)) throw new UsageError(`${where}: user ${JSON.stringify(user)} has no bcrypt hash (make entries with htpasswd -B)`, '--upload-auth');
    if (users.has(user)) throw new UsageError(`${where}: user ${JSON.stringify(user)} is listed twice`, '--upload-auth');
    users.set(user, hash);
  });
  return users;
}

/** User and password of an `Authorization: Basic` header; undefined when absent or malformed. */
export function parseBasicAuth(header: string | undefined): { user: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (match === null) return undefined;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function sameSecret(a: string, b: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** Checks passwords; bcrypt is slow on purpose, so a success is remembered for a while (in memory only, as a digest). */
export class Authenticator {
  readonly #credentials: Credentials;
  readonly #recent = new Map<string, number>();
  readonly #rememberMs: number;

  constructor(credentials: Credentials, rememberMs = 5 * 60 * 1000) {
    this.#credentials = credentials;
    this.#rememberMs = rememberMs;
  }

  async check(user: string, password: string): Promise<boolean> {
    const token = this.#credentials.token;
    if (user === TOKEN_USER && token !== undefined && token !== '') return sameSecret(password, token);
    const hash = this.#credentials.users.get(user);
    if (hash === undefined) return false;
    const key = createHash('sha256').update(`${user}\0${password}\0${hash}`).digest('hex');
    const until = this.#recent.get(key);
    if (until !== undefined && until > Date.now()) return true;
    const { compare } = await import('bcryptjs');
    const ok = await compare(password, hash.replace(/^\$2y\$/, '$2b$'));
    if (ok) this.#recent.set(key, Date.now() + this.#rememberMs);
    return ok;
  }
}
