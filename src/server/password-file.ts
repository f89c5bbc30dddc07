// The users of an htpasswd file for Basic auth on every request: bcrypt runs once per (user, password)
// pair, which is then remembered under a keyed hash of the header that carried it (never the password),
// and everything remembered is forgotten when the file changes.
import * as crypto from 'node:crypto';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync, statSync, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dummyHash, parseBasicAuth, parseHtpasswd, type PasswordHasher } from './credentials.js';

/** A request's credentials: good, wrong (a failed login), or none given (no failure: pip asks without them first). */
export type Verdict = 'ok' | 'bad' | 'missing';

export interface PasswordFileOptions {
  path: string;
  hasher: PasswordHasher;
  /** How often the file is looked at for changes, in ms (default 1000); 0: only when reload() is called. */
  pollMs?: number;
  /** Verified pairs remembered at most (default 4096): past it the oldest is forgotten. */
  maxRemembered?: number;
  log: (line: string) => void;
}

interface Remembered {
  user: string;
  /** The hash the password was checked against: a pair counts only while its user still has it. */
  hash: string;
}

// crypto.hash (Node 20.12+) is a one-shot SHA-256 several times cheaper than an Hmac object per request.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64') => string }).hash;

/**
 * SHA-256 of the per-process secret followed by the header: a keyed hash for a lookup table that never
 * leaves the process (where HMAC's protection against length extension buys nothing); HMAC before Node 20.12.
 */
function keyedDigest(secret: string, header: string): string {
  return oneShot === undefined ? createHmac('sha256', secret).update(header).digest('base64') : oneShot('sha256', secret + header, 'base64');
}

function signatureOf(facts: Stats): string {
  return `${facts.dev}:${facts.ino}:${facts.size}:${facts.mtimeMs}:${facts.ctimeMs}`;
}

export class PasswordFile {
  readonly #path: string;
  readonly #hasher: PasswordHasher;
  readonly #log: (line: string) => void;
  readonly #maxRemembered: number;
  /** Per process, never stored: the remembered keys mean nothing outside it. */
  readonly #key = randomBytes(32).toString('hex');
  readonly #verified = new Map<string, Remembered>();
  /** Checks under way, by key: concurrent requests with the same header share one bcrypt run. */
  readonly #pending = new Map<string, Promise<boolean>>();
  #users: Map<string, string>;
  #dummy: string;
  #signature: string;
  #reloading: Promise<void> | undefined;
  readonly #timer: NodeJS.Timeout | undefined;

  /** Reads the file now (it was checked at start-up: an error here is thrown as is). */
  constructor(options: PasswordFileOptions) {
    this.#path = options.path;
    this.#hasher = options.hasher;
    this.#log = options.log;
    this.#maxRemembered = Math.max(1, options.maxRemembered ?? 4096);
    this.#signature = signatureOf(statSync(this.#path));
    this.#users = parseHtpasswd(readFileSync(this.#path, 'utf8'), this.#path);
    this.#dummy = dummyHash(this.#users);
    const pollMs = options.pollMs ?? 1000;
    if (pollMs > 0) {
      this.#timer = setInterval(() => void this.reload(), pollMs);
      this.#timer.unref();
    }
  }

  /** How many users the file lists now. */
  get size(): number {
    return this.#users.size;
  }

  /** How many verified pairs are remembered (for tests). */
  get remembered(): number {
    return this.#verified.size;
  }

  /**
   * The verdict on an `Authorization` header: at once for a remembered pair (no promise on the hot
   * path), else after a bcrypt check (off the event loop; rejects with BcryptBusyError when too many wait).
   */
  /** Whether `header` is a pair verified before (and its user's hash unchanged): no bcrypt, no new verification. */
  isRemembered(header: string | undefined): boolean {
    if (header === undefined) return false;
    const known = this.#verified.get(keyedDigest(this.#key, header));
    return known !== undefined && this.#users.get(known.user) === known.hash;
  }

  check(header: string | undefined): Verdict | Promise<Verdict> {
    if (header === undefined) return 'missing';
    const key = keyedDigest(this.#key, header);
    const known = this.#verified.get(key);
    if (known !== undefined && this.#users.get(known.user) === known.hash) return 'ok';
    const credentials = parseBasicAuth(header);
    if (credentials === undefined) return 'missing';
    let pending = this.#pending.get(key);
    if (pending === undefined) {
      pending = this.#verify(key, credentials.user, credentials.password);
      this.#pending.set(key, pending);
      const forget = () => void this.#pending.delete(key);
      pending.then(forget, forget);
    }
    return pending.then((ok) => (ok ? 'ok' : 'bad'));
  }

  /** An unknown user costs the same bcrypt work as a known one (dummyHash): no finding out user names by timing. */
  async #verify(key: string, user: string, password: string): Promise<boolean> {
    const hash = this.#users.get(user);
    if (hash === undefined) {
      await this.#hasher.compare(password, this.#dummy);
      return false;
    }
    const ok = await this.#hasher.compare(password, hash);
    if (ok) {
      this.#verified.delete(key);
      if (this.#verified.size >= this.#maxRemembered) this.#verified.delete(this.#verified.keys().next().value as string);
      this.#verified.set(key, { user, hash });
    }
    return ok;
  }

  /**
   * Re-read the file when it changed (another inode, size or time): everything remembered is
   * forgotten. A file that is gone or broken refuses everyone until it is fixed (said once).
   */
  reload(): Promise<void> {
    this.#reloading ??= this.#reread().finally(() => {
      this.#reloading = undefined;
    });
    return this.#reloading;
  }

  async #reread(): Promise<void> {
    let signature: string;
    let users: Map<string, string>;
    try {
      // stat before reading: a change while it is read gives another signature next time, and another read.
      signature = signatureOf(await stat(this.#path));
      if (signature === this.#signature) return;
      users = parseHtpasswd(await readFile(this.#path, 'utf8'), this.#path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === undefined ? (error as Error).message : `cannot read ${this.#path}: ${code}`;
      if (this.#signature !== `broken:${why}`) this.#log(`warning: ${why}: its users are refused until it is fixed`);
      this.#signature = `broken:${why}`;
      this.#replace(new Map());
      return;
    }
    this.#signature = signature;
    this.#replace(users);
    this.#log(`${this.#path} changed: ${users.size} user${users.size === 1 ? '' : 's'}`);
  }

  #replace(users: Map<string, string>): void {
    this.#users = users;
    this.#dummy = dummyHash(users);
    this.#verified.clear();
  }

  /** Stop looking at the file. */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }
}
