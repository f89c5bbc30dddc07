// `dib-pypi serve`'s flags (already layered with the environment and config file) -> the server's
// options: every value checked here, once, before anything is indexed, forked or listened on.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { isValidProjectName, normalizeProjectName } from '../pypi/project-name.js';
import type { LogFormat } from '../server/access-log.js';
import type { ProxySettings, ServerOptions, UploadSettings } from '../server/options.js';
import { defaultMirror } from '../targets/mirror-location.js';
import { parseUpstreamUrl } from '../upstream/upstream-url.js';
import type { ServeFlags } from './commands/serve-options.js';
import { readUploadAcl } from './serve-acl.js';
import { accessSettings, clearTextWarning, tlsSettings } from './serve-access.js';
import { readUploadUsers } from './serve-htpasswd.js';
import * as values from './serve-values.js';

/** What the server's start-up reads from the machine. */
export interface ServeFacts {
  env: Record<string, string | undefined>;
  /** Cores to serve on (`--workers auto`). */
  cores: number;
  /** The soft limit on open files, when known. */
  fdLimit: number | undefined;
}

/** Where the server listens and what it serves: also what --nginx-conf renders. */
export interface ServeBasics {
  dir: string;
  host: string;
  port: number;
  cacheBytes: number;
  accessLog: LogFormat | undefined;
}

export function serveBasics(flags: ServeFlags, env: Record<string, string | undefined>): ServeBasics {
  const dir = resolve(flags.positionals[0] ?? defaultMirror(env));
  const host = flags.host ?? '127.0.0.1';
  const port = values.parsePort(flags.port);
  const cacheMb = values.parseMegabytes(flags.cacheMb, '--cache-mb', 64);
  const format = values.parseLogFormat(flags.logFormat, flags.accessLog === true);
  return { dir, host, port, cacheBytes: cacheMb * 1024 * 1024, accessLog: flags.accessLog === true ? format : undefined };
}

/** Uploads are on: --upload-auth FILE, or a non-empty DIB_PYPI_UPLOAD_TOKEN. */
function uploadsEnabled(flags: ServeFlags, env: Record<string, string | undefined>): boolean {
  return flags.uploadAuth !== undefined || (env.DIB_PYPI_UPLOAD_TOKEN ?? '') !== '';
}

/**
 * The server's options, and warnings about them for the process that speaks for the server. A pull-through
 * cache may start empty: its directory is made; a plain mirror must exist.
 */
export function serveOptions(flags: ServeFlags, basics: ServeBasics, facts: ServeFacts): { options: ServerOptions; warnings: string[] } {
  if (flags.nginxPrefix !== undefined) throw new UsageError('only with --nginx-conf', '--nginx-prefix');
  const { dir } = basics;
  const upstreams = flags.upstream ?? [];
  if (!existsSync(dir) && upstreams.length > 0) mkdirSync(dir, { recursive: true });
  if (!existsSync(dir)) throw new UsageError(`no such directory: ${JSON.stringify(dir)} (make a mirror with dib-pypi mirror add or mirror sync)`, 'DIR');
  if (!statSync(dir).isDirectory()) throw new UsageError(`not a directory: ${JSON.stringify(dir)}`, 'DIR');
  const isUploading = uploadsEnabled(flags, facts.env);
  const singleProcessReason = upstreams.length > 0 ? 'the pull-through cache (--upstream)' : isUploading ? 'serving with uploads' : undefined;
  const workers = values.parseWorkers(flags.workers, singleProcessReason, facts.cores);
  const warnings: string[] = [];
  const proxy = proxySettings(flags);
  const connections = values.parseMaxConnections(flags.maxConnections, facts.fdLimit);
  if (connections.lowered !== undefined) warnings.push(`--max-connections: ${connections.lowered}`);
  const limits = { maxConnections: connections.max, headersTimeoutMs: values.parseSeconds(flags.headersTimeout, '--headers-timeout', 10) * 1000 };
  const uploads = uploadSettings(flags, isUploading, facts.env, warnings);
  const access = accessSettings(flags, values.parseLoginFailures(flags.maxLoginFailures), warnings);
  const tls = tlsSettings(flags);
  const clearText = clearTextWarning(basics.host, { isUploading, hasPasswords: access !== undefined, hasTls: tls !== undefined });
  if (clearText !== undefined) warnings.push(clearText);
  const secured = { ...(access === undefined ? {} : { access }), ...(tls === undefined ? {} : { tls }) };
  return { options: { ...basics, workers, isIndexedAtStart: flags.noIndex !== true, limits, proxy, uploads, ...secured }, warnings };
}

/** The pull-through cache, when --upstream names indexes to proxy. */
function proxySettings(flags: ServeFlags): ProxySettings | undefined {
  const upstreams = flags.upstream ?? [];
  const ttl = values.parseSeconds(flags.ttl, '--ttl', 600);
  const timeout = values.parseSeconds(flags.timeout, '--timeout', 10);
  const maxPageBytes = values.parseByteLimit(flags.maxPageSize, '--max-page-size', values.DEFAULT_MAX_PAGE_BYTES);
  const maxFileBytes = values.parseByteLimit(flags.maxFileSize, '--max-file-size', values.DEFAULT_MAX_FILE_BYTES);
  if (upstreams.length === 0) {
    for (const [flag, given] of [
      ['--offline', flags.offline],
      ['--ttl', flags.ttl],
      ['--timeout', flags.timeout],
      ['--allow-upstream', flags.allowUpstream],
      ['--max-page-size', flags.maxPageSize],
      ['--max-file-size', flags.maxFileSize],
      ['--cache-max-size', flags.cacheMaxSize],
    ] as const) {
      if (given !== undefined) throw new UsageError('only with --upstream URL', flag);
    }
    return undefined;
  }
  for (const url of upstreams) parseUpstreamUrl(url);
  const allowUpstream = new Set<string>();
  for (const name of flags.allowUpstream ?? []) {
    if (!isValidProjectName(name)) throw new UsageError(`not a project name: ${JSON.stringify(name)}`, '--allow-upstream');
    allowUpstream.add(normalizeProjectName(name));
  }
  const maxCacheBytes = flags.cacheMaxSize === undefined ? undefined : values.parseByteLimit(flags.cacheMaxSize, '--cache-max-size', 0);
  return {
    upstreams,
    ttlMs: ttl * 1000,
    timeoutMs: timeout * 1000,
    offline: flags.offline === true,
    maxPageBytes,
    maxFileBytes,
    allowUpstream,
    ...(maxCacheBytes === undefined ? {} : { maxCacheBytes }),
  };
}

/** The upload API, when --upload-auth or DIB_PYPI_UPLOAD_TOKEN enables it. */
function uploadSettings(flags: ServeFlags, isUploading: boolean, env: Record<string, string | undefined>, warnings: string[]): UploadSettings | undefined {
  const token = env.DIB_PYPI_UPLOAD_TOKEN;
  const maxMb = values.parseMegabytes(flags.maxUploadMb, '--max-upload-mb', 1024);
  const maxLoginFailures = values.parseLoginFailures(flags.maxLoginFailures);
  if (!isUploading) {
    if (flags.allowOverwrite === true) throw new UsageError('needs uploads enabled (--upload-auth FILE or DIB_PYPI_UPLOAD_TOKEN)', '--allow-overwrite');
    if (flags.maxLoginFailures !== undefined && flags.readAuth === undefined && flags.metricsAuth === undefined)
      throw new UsageError('needs uploads enabled (--upload-auth FILE or DIB_PYPI_UPLOAD_TOKEN), --read-auth or --metrics-auth', '--max-login-failures');
    if (flags.uploadAcl !== undefined) throw new UsageError('needs uploads enabled (--upload-auth FILE or DIB_PYPI_UPLOAD_TOKEN)', '--acl');
    return undefined;
  }
  const users = flags.uploadAuth === undefined ? new Map<string, string>() : readUploadUsers(flags.uploadAuth, warnings);
  const hasToken = token !== undefined && token !== '';
  return {
    credentials: { users, token: token === '' ? undefined : token },
    allowOverwrite: flags.allowOverwrite === true,
    maxBytes: maxMb * 1024 * 1024,
    maxLoginFailures,
    ...(flags.uploadAcl === undefined ? {} : { acl: readUploadAcl(flags.uploadAcl, { users, hasToken }, env, warnings) }),
  };
}

/** The soft limit on open files of this process (Linux /proc), or undefined when unknown. */
export function openFilesLimit(): number | undefined {
  try {
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return match === null || match[1] === 'unlimited' ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}
