// Who may upload: users with bcrypt hashes (an htpasswd file made with `htpasswd -B`) and/or a token (user `__token__`).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { InputError } from '../errors.js';

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
    if (colon <= 0) throw new InputError('htpasswd', `${where}: expected user:hash`);
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    if (!BCRYPT.test(hash)) throw new InputError('htpasswd', `${where}: user ${JSON.stringify(user)} has no bcrypt hash (make entries with htpasswd -B)`);
    if (users.has(user)) throw new InputError('htpasswd', `${where}: user ${JSON.stringify(user)} is listed twice`);
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

/** Compares a password with a bcrypt hash (UploadThreads: off the event loop). */
export interface PasswordHasher {
  compare(password: string, hash: string): Promise<boolean>;
}

const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A well-formed bcrypt hash of the same cost as the users' dearest one, matching no password: an
 * unknown user is checked against it, so that the answer takes as long as for a known user (no
 * finding out user names by timing).
 */
export function dummyHash(users: Map<string, string>): string {
  const costs = [...users.values()].map((hash) => Number(hash.slice(4, 6)));
  const cost = costs.reduce((highest, each) => Math.max(highest, each), 5); // htpasswd -B's default cost is 5
  const bytes = randomBytes(53);
  let tail = '';
  for (const byte of bytes) tail += BCRYPT_ALPHABET[byte % 64];
  return `$2b$${String(cost).padStart(2, '0')}$${tail}`;
}

/** Checks passwords; bcrypt is slow on purpose, so a success is remembered for a while (in memory only, as a digest). */
export class Authenticator {
  readonly #credentials: Credentials;
  readonly #recent = new Map<string, number>();
  readonly #rememberMs: number;
  readonly #hasher: PasswordHasher;
  readonly #dummy: string;

  constructor(credentials: Credentials, hasher: PasswordHasher, rememberMs = 5 * 60 * 1000) {
    this.#credentials = credentials;
    this.#hasher = hasher;
    this.#rememberMs = rememberMs;
    this.#dummy = dummyHash(credentials.users);
  }

  /** Whether the password is right; an unknown user costs the same bcrypt work as a known one. Rejects with BcryptBusyError when too many checks wait. */
  async check(user: string, password: string): Promise<boolean> {
    const token = this.#credentials.token;
    if (user === TOKEN_USER && token !== undefined && token !== '') return sameSecret(password, token);
    const hash = this.#credentials.users.get(user);
    if (hash === undefined) {
      await this.#hasher.compare(password, this.#dummy);
      return false;
    }
    const key = createHash('sha256').update(`${user}\0${password}\0${hash}`).digest('hex');
    const until = this.#recent.get(key);
    if (until !== undefined && until > Date.now()) return true;
    const ok = await this.#hasher.compare(password, hash);
    if (ok) this.#remember(key);
    return ok;
  }

  #remember(key: string): void {
    const now = Date.now();
    // Bounded: expired entries go whenever one is added.
    for (const [old, until] of this.#recent) if (until <= now) this.#recent.delete(old);
    this.#recent.set(key, now + this.#rememberMs);
  }
}
