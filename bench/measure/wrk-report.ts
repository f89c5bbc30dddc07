// What wrk printed (with --latency), as figures: for the serve benchmark and the load tests.

export interface WrkReport {
  rps: number;
  /** The 50th and 99th percentile latency, in ms (NaN when wrk printed none). */
  p50Ms: number;
  p99Ms: number;
  /** Non-2xx/3xx answers plus socket errors (connect, read, write, timeout). */
  errors: number;
  /** Requests answered within the run; the percentiles mean nothing when this is 0. */
  completed: number;
}

function parseDuration(text: string): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (match === null) return Number.NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 'ms' ? value : value * 1000;
}

export function parseWrk(out: string): WrkReport {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p50 = parseDuration(/\s50%\s+(\S+)/.exec(out)?.[1] ?? '');
  const p99 = parseDuration(/\s99%\s+(\S+)/.exec(out)?.[1] ?? '');
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = socket === null ? 0 : socket.slice(1).reduce((sum, n) => sum + Number(n), 0);
  const completed = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  return { rps, p50Ms: p50, p99Ms: p99, errors: non2xx + socketErrors, completed };
}
