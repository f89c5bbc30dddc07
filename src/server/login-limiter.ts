// Failed logins per client: after too many within a window, the client is refused (429) until the oldest failure ages out. Pure: the clock is passed in.

export interface LoginLimiterOptions {
  /** Failures allowed within `windowMs` (default 10). */
  maxFailures?: number;
  /** Default 60 s. */
  windowMs?: number;
  /** Clients remembered at most (default 10,000): past it the stalest is forgotten. */
  maxClients?: number;
  /** Milliseconds now (default Date.now). */
  now?: () => number;
}

/**
 * The key a client is counted under: its IPv4 address, or its IPv6 /64 (one host usually holds a
 * whole /64, so counting single IPv6 addresses would let it try 2^64 times).
 */
export function clientKey(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return mapped[1] as string;
  if (!address.includes(':')) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::') ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

export class LoginLimiter {
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #maxClients: number;
  readonly #now: () => number;
  /** client -> times of its recent failures, oldest first; the map in least recently failed order. */
  readonly #failures = new Map<string, number[]>();

  constructor(options: LoginLimiterOptions = {}) {
    this.#maxFailures = options.maxFailures ?? 10;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#maxClients = options.maxClients ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** Seconds until `client` may try again (0: now). */
  retryAfter(client: string): number {
    const times = this.#recent(client);
    if (times.length < this.#maxFailures) return 0;
    const oldest = times[times.length - this.#maxFailures] as number;
    return Math.max(1, Math.ceil((oldest + this.#windowMs - this.#now()) / 1000));
  }

  /** A failed login by `client`. */
  fail(client: string): void {
    const times = this.#recent(client);
    times.push(this.#now());
    if (times.length > this.#maxFailures) times.splice(0, times.length - this.#maxFailures);
    this.#failures.delete(client);
    this.#failures.set(client, times);
    if (this.#failures.size > this.#maxClients) this.#failures.delete(this.#failures.keys().next().value as string);
  }

  /** A successful login by `client`: its failures are forgotten. */
  succeed(client: string): void {
    this.#failures.delete(client);
  }

  /** How many clients are remembered (for tests and /health). */
  get size(): number {
    return this.#failures.size;
  }

  #recent(client: string): number[] {
    const times = this.#failures.get(client);
    if (times === undefined) return [];
    const cutoff = this.#now() - this.#windowMs;
    while (times.length > 0 && (times[0] as number) <= cutoff) times.shift();
    if (times.length === 0) this.#failures.delete(client);
    return times;
  }
}
