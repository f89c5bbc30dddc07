// The values of `dib-pypi serve`'s flags: text in, a checked value out, or a UsageError naming the flag. Pure.
import { UsageError } from '../errors.js';
import { parseSize } from '../parse-size.js';
import type { LogFormat } from '../server/access-log.js';

export const DEFAULT_PORT = 8080;

/** `--port`: 0..65535 (0 picks a free port). */
export function parsePort(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_PORT;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) throw new UsageError(`expected a port number 0-65535, got ${JSON.stringify(raw)}`, '--port');
  return Number(raw);
}

/** A positive number of seconds (fractions allowed). */
export function parseSeconds(raw: string | undefined, flag: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !(value > 0) || value > 31_536_000)
    throw new UsageError(`expected a number of seconds above 0, got ${JSON.stringify(raw)}`, flag);
  return value;
}

/** A positive whole number of MiB. */
export function parseMegabytes(raw: string | undefined, flag: string, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d{1,6}$/.test(raw) || Number(raw) === 0) throw new UsageError(`expected a whole number of MiB (1 or more), got ${JSON.stringify(raw)}`, flag);
  return Number(raw);
}

/** Descriptors kept for what is not a connection (files being served or received, the cache, threads). */
const RESERVED_FDS = 128;

/**
 * `--max-connections N` (default 1024): open connections per serving process; past it the longest
 * idle one is closed. Never more than the open-files limit allows (less a reserve), or accept()
 * would fail with EMFILE and drop new connections, the well-behaved ones too.
 */
export function parseMaxConnections(raw: string | undefined, fdLimit: number | undefined): { max: number; lowered?: string } {
  if (raw !== undefined && (!/^\d{1,7}$/.test(raw) || Number(raw) < 1))
    throw new UsageError(`expected a number of connections (1 or more), got ${JSON.stringify(raw)}`, '--max-connections');
  const wanted = raw === undefined ? 1024 : Number(raw);
  if (fdLimit === undefined || wanted <= fdLimit - RESERVED_FDS) return { max: wanted };
  const max = Math.max(16, fdLimit - RESERVED_FDS);
  return { max, lowered: `${wanted} connections need more open files than this process may have (ulimit -n ${fdLimit}): at most ${max}` };
}

/** `--max-login-failures N`: failed logins a client may have per minute before 429 (default 10; 0: no limit). */
export function parseLoginFailures(raw: string | undefined): number {
  if (raw === undefined) return 10;
  if (!/^\d{1,6}$/.test(raw)) throw new UsageError(`expected a number of failed logins (0: no limit), got ${JSON.stringify(raw)}`, '--max-login-failures');
  return Number(raw) === 0 ? Infinity : Number(raw);
}

/**
 * Defaults of --max-page-size and --max-file-size. The biggest simple pages (projects with
 * thousands of files) are some MB of JSON, and a page is read into memory: 64 MiB leaves room and
 * bounds the memory. PyPI takes files up to 100 MB by default and grants more per project; its
 * biggest wheels (CUDA libraries, torch) stay under 1 GiB. An index with bigger files needs the flag.
 */
export const DEFAULT_MAX_PAGE_BYTES = 64 * 1024 ** 2;
export const DEFAULT_MAX_FILE_BYTES = 1024 ** 3;

/** A size limit in bytes (`500000`, `512M`, `1G`, `64MiB`: parseSize's units), above 0. */
export function parseByteLimit(raw: string | undefined, flag: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const bytes = parseSize(raw, flag);
  if (!(bytes > 0) || !Number.isSafeInteger(bytes)) throw new UsageError(`expected a size above 0, such as 512M or 1G, got ${JSON.stringify(raw)}`, flag);
  return bytes;
}

/** At most this many serving processes by default (each holds its own --cache-mb of pages). */
const MAX_AUTO_WORKERS = 4;

/**
 * `--workers N|auto`: how many processes serve. auto (the default) is one per core, at most
 * MAX_AUTO_WORKERS, for a plain mirror; the pull-through cache and uploads need one owner for their
 * downloads and re-index runs, so they run in one process (and say so when asked for more).
 */
export function parseWorkers(raw: string | undefined, singleProcessReason: string | undefined, cores: number): number {
  if (raw !== undefined && raw !== 'auto' && (!/^\d{1,3}$/.test(raw) || Number(raw) < 1 || Number(raw) > 64)) {
    throw new UsageError(`expected auto or a number of processes 1-64, got ${JSON.stringify(raw)}`, '--workers');
  }
  if (singleProcessReason !== undefined) {
    if (raw !== undefined && raw !== 'auto' && Number(raw) > 1) throw new UsageError(`${singleProcessReason} runs in one process`, '--workers');
    return 1;
  }
  if (raw === undefined || raw === 'auto') return Math.max(1, Math.min(cores, MAX_AUTO_WORKERS));
  return Number(raw);
}

/** `--log-format combined|json` (default combined), only with --access-log. */
export function parseLogFormat(raw: string | undefined, isAccessLog: boolean): LogFormat {
  if (raw === undefined) return 'combined';
  if (!isAccessLog) throw new UsageError('only with --access-log', '--log-format');
  if (raw !== 'combined' && raw !== 'json') throw new UsageError(`expected combined or json, got ${JSON.stringify(raw)}`, '--log-format');
  return raw;
}

/** A host as it appears in a URL or nginx's listen: an IPv6 address in brackets. */
export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
