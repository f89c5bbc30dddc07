// `dib-pypi serve`'s flags: the spec (with help lines) that the command line, DIB_PYPI_SERVE_* variables and
// the --config file share (serve-settings.ts layers them), and the options serve-command.ts runs with.
import { hasValuesOf, type OptionSpecs, type Values } from './declare.js';

/** In this order in the TOML "unknown setting" message; --help shows them in SERVE_HELP_ORDER. */
export const SERVE_OPTIONS = {
  host: { type: 'string', help: '  --host ADDR        address to listen on (default: 127.0.0.1, this machine only)' },
  port: { type: 'string', help: '  --port N           port (default: 8080); 0 picks a free port (the URL is printed)' },
  'no-index': {
    type: 'boolean',
    help: `  --no-index         serve DIR's index as it is (default: bring it up to date first,
                     as dib-pypi mirror index does; a read-only DIR is served as it is)`,
  },
  'cache-mb': {
    type: 'string',
    help: `  --cache-mb N       memory for index pages and small files, per process (default:
                     64); bigger files are always streamed from disk`,
  },
  'access-log': { type: 'boolean', help: '  --access-log       print one line per request on stdout (default: off)' },
  'log-format': {
    type: 'string',
    help: `  --log-format F     with --access-log: combined (default; Apache's combined format,
                     then the duration in seconds and the cache status) or json`,
  },
  'nginx-conf': {
    type: 'boolean',
    help: `  --nginx-conf       print an nginx configuration serving DIR the same way (PEP 691
                     negotiation, /simple/), for conf.d, and exit`,
  },
  'nginx-prefix': {
    type: 'string',
    help: `  --nginx-prefix DIR with --nginx-conf: print a whole nginx.conf instead, that runs on
                     its own (nginx -p DIR -c FILE) with its pid, logs and temp in DIR`,
  },
  'upload-auth': {
    type: 'string',
    help: `  --upload-auth FILE enable uploads (twine upload --repository-url http://HOST:PORT/)
                     for the users of FILE, an htpasswd file of bcrypt entries
                     (htpasswd -B); DIB_PYPI_UPLOAD_TOKEN=T also enables them, for
                     user __token__ with password T`,
  },
  acl: {
    type: 'string',
    help: `  --acl FILE         which users may upload to which projects (docs/serve.md: [groups],
                     [upload] and [create] lines of project name patterns); a new
                     project's first uploader becomes its owner (DIR/.dib-pypi/owners.json).
                     Default: every upload user may upload to every project`,
  },
  'read-auth': {
    type: 'string',
    help: `  --read-auth FILE   every page and file needs Basic auth of a user of FILE, an
                     htpasswd file of bcrypt entries (htpasswd -B): 401 otherwise,
                     so pip asks its keyring or ~/.netrc; /health stays open. FILE
                     is read again when it changes`,
  },
  'metrics-auth': {
    type: 'string',
    help: `  --metrics-auth FILE  /metrics needs Basic auth of a user of FILE (htpasswd -B);
                     without it /metrics is open`,
  },
  'tls-cert': {
    type: 'string',
    help: `  --tls-cert FILE    serve HTTPS with this PEM certificate (chain); needs --tls-key.
                     SIGHUP reads both again for new connections`,
  },
  'tls-key': { type: 'string', help: '  --tls-key FILE     the PEM private key (unencrypted) of --tls-cert' },
  'allow-overwrite': { type: 'boolean', help: '  --allow-overwrite  let an upload replace a file of the same name (default: 409)' },
  'max-upload-mb': { type: 'string', help: '  --max-upload-mb N  largest file accepted (default: 1024)' },
  upstream: {
    type: 'string',
    multiple: true,
    help: `  --upstream URL     be a pull-through cache of this PEP 503/691 index (repeatable:
                     tried in order; the first that has a project serves all of it);
                     user:password@ in the URL is sent to that host only, never printed`,
  },
  offline: {
    type: 'boolean',
    help: `  --offline          never contact the upstream: serve what is cached (pages list
                     the cached files only)`,
  },
  ttl: { type: 'string', help: '  --ttl SECONDS      how long a fetched project page is fresh (default: 600)' },
  timeout: {
    type: 'string',
    help: `  --timeout SECONDS  upstream request timeout (default: 10); a request for a kept
                     page waits this long at most, retries included, then gets it stale`,
  },
  'allow-upstream': {
    type: 'string',
    multiple: true,
    help: `  --allow-upstream NAME  also proxy NAME although it has private uploads (repeatable;
                     by default such a project is served from this server only)`,
  },
  workers: {
    type: 'string',
    help: `  --workers N|auto   processes serving DIR, sharing the port (default: auto, one per
                     core, at most 4); the pull-through cache and uploads always run
                     in one process`,
  },
  'max-connections': {
    type: 'string',
    help: `  --max-connections N  open connections per process (default: 1024, less when
                     ulimit -n is lower); past it the longest idle one is closed`,
  },
  'headers-timeout': {
    type: 'string',
    help: `  --headers-timeout SECONDS  a connection that sends no whole request head this long
                     after connecting or after its last answer is closed (default: 10)`,
  },
  'max-login-failures': {
    type: 'string',
    help: `  --max-login-failures N  wrong passwords a client (IPv4 address, IPv6 /64) may send
                     per minute; then 429 with Retry-After (default: 10; 0: no limit)`,
  },
  'max-page-size': { type: 'string', help: '  --max-page-size SIZE  largest upstream page read (default: 64MiB; 512K, 8M, 1G...)' },
  'max-file-size': {
    type: 'string',
    help: `  --max-file-size SIZE  largest upstream file fetched (default: 1GiB); a bigger one is
                     left off the page when its size is known, else cut off: nothing kept`,
  },
  'cache-max-size': {
    type: 'string',
    help: `  --cache-max-size SIZE  files downloaded from upstream kept at most (10G, 500M...); past it
                     the least recently used are evicted (to 90%), fetched again when asked
                     for; uploads and synced files are never evicted (default: no limit)`,
  },
  config: {
    type: 'string',
    help: `  --config FILE      read settings from a TOML file: the flags' names as keys
                     (port = 8080, upstream = ["https://..."], dir = "/srv/pypi"),
                     at the top level or in a [serve] table`,
  },
  'print-config': { type: 'boolean', help: '  --print-config     print the effective settings (secrets redacted) and exit' },
} as const satisfies OptionSpecs;

export type ServeValues = Values<typeof SERVE_OPTIONS>;

export const SERVE_HELP_ORDER = [
  'config',
  'print-config',
  'host',
  'port',
  'workers',
  'no-index',
  'cache-mb',
  'access-log',
  'log-format',
  'nginx-conf',
  'nginx-prefix',
  'tls-cert',
  'tls-key',
  'read-auth',
  'metrics-auth',
  'upload-auth',
  'acl',
  'allow-overwrite',
  'max-upload-mb',
  'max-login-failures',
  'max-connections',
  'headers-timeout',
  'upstream',
  'ttl',
  'timeout',
  'max-page-size',
  'max-file-size',
  'cache-max-size',
  'offline',
  'allow-upstream',
] as const;

/** What `dib-pypi serve` was given on its command line, before the environment and the file are layered below it. */
export interface ServeCommandLine {
  values: ServeValues;
  positionals: string[];
}

/** Settings (layered, by flag name) that are serve's flags, checked against the spec. */
export function isServeValues(settings: Readonly<Record<string, unknown>>): settings is ServeValues {
  return hasValuesOf(SERVE_OPTIONS, settings);
}

/** The flags by flag name -> the options serve-command.ts runs with. */
export function serveFlagsOf(values: ServeValues, positionals: string[]) {
  return {
    positionals,
    host: values.host,
    port: values.port,
    noIndex: values['no-index'],
    cacheMb: values['cache-mb'],
    accessLog: values['access-log'],
    logFormat: values['log-format'],
    nginxConf: values['nginx-conf'],
    nginxPrefix: values['nginx-prefix'],
    uploadAuth: values['upload-auth'],
    uploadAcl: values.acl,
    readAuth: values['read-auth'],
    metricsAuth: values['metrics-auth'],
    tlsCert: values['tls-cert'],
    tlsKey: values['tls-key'],
    allowOverwrite: values['allow-overwrite'],
    maxUploadMb: values['max-upload-mb'],
    upstream: values.upstream,
    offline: values.offline,
    ttl: values.ttl,
    timeout: values.timeout,
    allowUpstream: values['allow-upstream'],
    workers: values.workers,
    maxConnections: values['max-connections'],
    headersTimeout: values['headers-timeout'],
    maxLoginFailures: values['max-login-failures'],
    maxPageSize: values['max-page-size'],
    maxFileSize: values['max-file-size'],
    cacheMaxSize: values['cache-max-size'],
    config: values.config,
    printConfig: values['print-config'],
  };
}

export type ServeFlags = ReturnType<typeof serveFlagsOf>;
