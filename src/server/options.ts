// What `startServer` takes: the server's settings as checked values (no flag names, no text to parse),
// and where its output goes. The CLI builds them from flags, environment and config file.
import type { IndexProgress } from '../mirror/index/types.js';
import type { LogFormat } from './access-log.js';
import type { UploadAcl } from './acl-file.js';
import type { Credentials } from './credentials.js';
import type { ProxyOptions } from './proxy.js';
import type { AccessSettings } from './read-auth.js';
import type { TlsSettings } from './tls.js';
import type { UploadOptions } from './upload.js';

/** The pull-through cache: the upstream indexes and how they are asked. */
export type ProxySettings = Pick<ProxyOptions, 'upstreams' | 'ttlMs' | 'timeoutMs' | 'offline' | 'maxPageBytes' | 'maxFileBytes' | 'allowUpstream'> & {
  /** Bytes of downloaded files the cache keeps; past it the least recently used are evicted (undefined: no limit). */
  maxCacheBytes?: number;
};

/** The upload API: who may upload, and what. */
export interface UploadSettings extends Pick<UploadOptions, 'allowOverwrite' | 'maxBytes'> {
  credentials: Credentials;
  /** Failed logins per client and minute before 429 (Infinity: no limit). */
  maxLoginFailures: number;
  /** Who may upload to which project, and who owns which (absent: every user may upload anywhere). */
  acl?: { rules: UploadAcl; trustedUids: ReadonlySet<number> };
}

export interface ServerOptions {
  /** The mirror directory (absolute; it exists). */
  dir: string;
  host: string;
  /** 0: a free port. */
  port: number;
  /** Bytes of pages and small files each serving process keeps in memory. */
  cacheBytes: number;
  /** Serving processes: 1 serves in this process; more fork them (node:cluster) from this one, which serves nothing. */
  workers: number;
  /** Bring the index up to date before serving (a read-only mirror is served as it is). */
  isIndexedAtStart: boolean;
  /** The access log's format; none: no access log. */
  accessLog?: LogFormat;
  /** Open connections per serving process, and the deadline for a request's headers. */
  limits: { maxConnections: number; headersTimeoutMs: number };
  /** A pull-through cache of these upstreams (one process only). */
  proxy?: ProxySettings;
  /** Uploads enabled (one process only). */
  uploads?: UploadSettings;
  /** Passwords for reading pages and files, and/or /metrics. */
  access?: AccessSettings;
  /** HTTPS, with these files (read again on SIGHUP). */
  tls?: TlsSettings;
  /** dib-pypi's version, shown on the web page's status page. */
  version?: string;
}

/** Where the server's output goes. */
export interface ServerOutput {
  /** An event or warning line of the server (errors of a download, a re-index, a dying process). */
  log(line: string): void;
  /** One line of the access log (only with `accessLog`): one call per line, as processes share the output. */
  accessLine(line: string): void;
  /** The index run before serving: its progress, and its end. */
  indexProgress?: { update(progress: IndexProgress): void; clear(): void };
  /**
   * Every serving process listens, on this port (the one port 0 picked). Called once, in the
   * process that speaks for the server: not in the serving processes of a cluster.
   */
  onListening(serving: { port: number; processes: number }): void;
}

/** Why the server stopped: a signal, or its serving processes could not be kept up (the exit code one of them gave, or 1). */
export type ServerStop = { signal: 'SIGINT' | 'SIGTERM' } | { failedWith: number };

export interface RunningServer {
  /** Settles once the server has stopped and let go of its port and connections. */
  stopped: Promise<ServerStop>;
}
