// The nginx configuration that serves a mirror directory as a PEP 503 + PEP 691 index, like `dib-pypi serve` (pure: a string).
// Plain nginx (no njs, no Lua): `map` blocks pick index.json or index.html from the Accept header.

export interface NginxSiteInput {
  /** The mirror directory served at `/` and `/simple/`. */
  root: string;
  /** nginx's `listen` value, e.g. `127.0.0.1:8080`. */
  listen: string;
  serverName?: string;
  /** Basic auth for everything but /health: an htpasswd file of bcrypt entries (Debian's nginx checks them with libxcrypt's crypt(3)). */
  usersFile?: string;
  /** nginx terminates TLS with these PEM files. */
  tls?: { certFile: string; keyFile: string };
}

export interface NginxConfInput {
  /** The mirror directory served at `/` and `/simple/`. */
  root: string;
  host?: string;
  port: number;
  /** nginx's own directory: pid file, logs, temp paths. */
  dir: string;
  /** `user` directive: only when the master runs as root (workers would otherwise drop to nobody). */
  user?: string;
  /** worker_processes (default 1). */
  workers?: number | 'auto';
  /** worker_connections (default 1024). */
  connections?: number;
  /** false: no access log (benchmarks). */
  accessLog?: boolean;
  /** As in NginxSiteInput. */
  usersFile?: NginxSiteInput['usersFile'];
  tls?: NginxSiteInput['tls'];
}

// PEP 691: these media types select JSON; `latest` is an alias of v1 here.
const JSON_TYPES = String.raw`application/vnd\.pypi\.simple\.(?:v1|latest)\+json`;
// Types that accept the HTML page (PEP 691's HTML type, PEP 503's text/html, and wildcards).
const HTML_TYPES = String.raw`(?:text/html|application/vnd\.pypi\.simple\.(?:v1|latest)\+html|text/\*|\*/\*)`;

/** A string in nginx's double quotes. */
function quote(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** A regex in nginx's double quotes, backslashes as written (nginx keeps `\d`, `\.`; it would only rewrite \\, \", \', \t, \r, \n). */
function pattern(regex: string): string {
  if (/["']|\\[\\"'trn]/.test(regex)) throw new Error(`nginx-conf: pattern needs escaping: ${regex}`);
  return `"${regex}"`;
}

/**
 * `$pypi_<kind>_q`: the q-value the Accept header gives to a media type, as text: "" when the type
 * is not listed, "1" for q=1 (or no q), `0.DDD000` for q=0.DDD (padded so that digits line up).
 * The first listed type of the kind counts (clients list their best one first).
 */
function qValueMap(kind: 'json' | 'html', types: string): string {
  const item = String.raw`(?:^|,)\s*${types}`;
  return [
    `map $http_accept $pypi_${kind}_q {`,
    '    default "";',
    `    ${pattern(String.raw`~*${item}\s*(?:,|$)`)} 1;`,
    `    ${pattern(String.raw`~*${item}\s*;\s*q=0(?:\.(?<pypi_${kind}_digits>\d*))?`)} ${quote(`0.\${pypi_${kind}_digits}000`)};`,
    `    ${pattern(`~*${item}`)} 1;`,
    '}',
  ].join('\n');
}

/**
 * `$pypi_index`: index.json when the JSON type's q-value beats every HTML type's (a tie goes to
 * JSON, as PEP 691 lets the server choose), else index.html. Compares the first three decimals
 * of the q-values (RFC 9110 12.4.2 allows no more): JSON wins at the first digit that differs.
 */
function chooseIndexMap(): string {
  const jsonWins: string[] = [];
  for (let position = 0; position < 3; position++) {
    for (let digit = 1; digit <= 9; digit++) {
      jsonWins.push(`    ${pattern(String.raw`~^0\.(\d{${position}})${digit}\d*:0\.\1[0-${digit - 1}]`)} index.json;`);
    }
  }
  return [
    'map "$pypi_json_q:$pypi_html_q" $pypi_index_negotiated {',
    '    default index.html;',
    `    ${pattern('~^:')} index.html;`, // JSON not asked for
    `    ${pattern(String.raw`~^0\.000`)} index.html;`, // JSON refused (q=0)
    `    ${pattern('~^1:')} index.json;`,
    `    ${pattern('~:$')} index.json;`, // JSON acceptable, HTML not listed
    `    ${pattern('~:1$')} index.html;`, // HTML at q=1, JSON below
    ...jsonWins,
    `    ${pattern(String.raw`~^0\.(\d{3})\d*:0\.\1`)} index.json;`, // equal q-values
    '}',
  ].join('\n');
}

// Accept headers clients send verbatim, answered by one hash lookup instead of the regex maps
// (nginx evaluates a map's variables lazily: the q-value maps run only when none of these matches).
const KNOWN_ACCEPT: [accept: string, page: string][] = [
  // pip >= 22.2 (pip/_internal/index/collector.py, _get_simple_response)
  ['application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01', 'index.json'],
  ['application/vnd.pypi.simple.v1+json', 'index.json'],
  ['text/html', 'index.html'],
  ['*/*', 'index.html'],
];

/** `$pypi_index`: the known headers by exact match, everything else by the q-value comparison. */
function fastIndexMap(): string {
  return [
    'map $http_accept $pypi_index {',
    '    default $pypi_index_negotiated;',
    '    "" index.html;',
    ...KNOWN_ACCEPT.map(([accept, page]) => `    ${quote(accept)} ${page};`),
    '}',
  ].join('\n');
}

function indent(block: string): string {
  return block.replace(/^/gm, '    ');
}

/** nginx reads the certificate and key as its master starts or reloads (nginx -s reload, SIGHUP). */
function tlsLines(input: NginxSiteInput): string {
  if (input.tls === undefined) return '';
  return `    ssl_certificate ${quote(input.tls.certFile)};
    ssl_certificate_key ${quote(input.tls.keyFile)};
    ssl_protocols TLSv1.2 TLSv1.3;
`;
}

/** Every page and file needs a user of the htpasswd file, as `dib-pypi serve --read-auth`; /health stays open. */
function authLines(input: NginxSiteInput): string {
  if (input.usersFile === undefined) return '';
  return `    # Read by nginx's workers on each request (so edits count at once): they must be able to read it.
    auth_basic "dib-pypi";
    auth_basic_user_file ${quote(input.usersFile)};
`;
}

/** The `server` block and the `map`s it needs: what goes inside nginx's `http {}` (e.g. /etc/nginx/conf.d/pypi.conf). */
export function renderNginxSite(input: NginxSiteInput): string {
  return `# dib-pypi: serves ${input.root} as a PEP 503 / PEP 691 simple index at / (and /simple/).
# The Accept header picks index.json (PEP 691) or index.html, as \`dib-pypi serve\` does.

# pip's Accept header is longer than the default map bucket (64 bytes); set before any map.
map_hash_bucket_size 128;

${qValueMap('json', JSON_TYPES)}

${qValueMap('html', HTML_TYPES)}

${chooseIndexMap()}

${fastIndexMap()}

server {
    listen ${input.listen}${input.tls === undefined ? '' : ' ssl'};
    server_name ${input.serverName ?? 'localhost'};
${tlsLines(input)}${authLines(input)}    root ${quote(input.root)};
    absolute_redirect off;
    autoindex off;
    sendfile on;
    # TCP_CORK for files (headers and the first bytes in one segment), as Debian's nginx.conf; the
    # index pages turn it off below.
    tcp_nopush on;
    open_file_cache max=10000 inactive=30s;
    open_file_cache_valid 1s;

    types {
        text/html html;
        application/vnd.pypi.simple.v1+json json;
        text/plain metadata;
        application/octet-stream whl gz zip bz2 xz tgz tar;
    }
    default_type application/octet-stream;
    charset utf-8;
    # text/html always has its charset added (listing it again makes nginx warn).
    charset_types text/plain;

    # .dib-pypi/ (the manifest), temp files of atomic writes, anything hidden: never served.
    location ~ /\\. {
        return 404;
    }
    location = /health {
        auth_basic off;
        default_type application/json;
        return 200 '{"status":"ok"}\\n';
    }
    # /simple/... is the same tree as /...
    location /simple/ {
        rewrite ^/simple(/.*)$ $1 last;
    }
    location = /simple {
        return 301 /simple/;
    }
    # Reached by the index directive's internal redirect: caches must key on Accept.
    location ~ /index\\.(?:html|json)$ {
        # Pages by read + writev, not sendfile: a project page of a few KB goes out with its headers
        # in one call (bench/serve.ts measures both), and no TCP_CORK, under which the tail of a large
        # JSON root page waits for the peer's delayed ACK.
        sendfile off;
        tcp_nopush off;
        add_header Vary Accept always;
        add_header Cache-Control "max-age=0, must-revalidate" always;
    }
    location / {
        # A page without index.json (an HTML-only tree) still answers, with HTML.
        index $pypi_index index.html;
    }
}
`;
}

/** A whole nginx.conf that runs on its own: one master, everything under `dir`, nothing from /etc/nginx. */
export function renderNginxConf(input: NginxConfInput): string {
  const at = (name: string) => quote(`${input.dir}/${name}`);
  return `# dib-pypi: a standalone nginx.conf (nginx -c THIS_FILE) serving ${input.root}.
${input.user === undefined ? '' : `user ${input.user};\n`}worker_processes ${input.workers ?? 1};
pcre_jit on;
pid ${at('nginx.pid')};
error_log ${at('error.log')} notice;

events {
    worker_connections ${input.connections ?? 1024};
}

http {
    log_format pypi '$request_method $request_uri $status "$sent_http_content_type" "$http_accept"';
    access_log ${input.accessLog === false ? 'off' : `${at('access.log')} pypi`};

    client_body_temp_path ${at('client-body')};
    proxy_temp_path ${at('proxy')};
    fastcgi_temp_path ${at('fastcgi')};
    uwsgi_temp_path ${at('uwsgi')};
    scgi_temp_path ${at('scgi')};
    keepalive_timeout 65;
    keepalive_requests 100000;

${indent(renderNginxSite({ root: input.root, listen: `${input.host ?? '127.0.0.1'}:${input.port}`, usersFile: input.usersFile, tls: input.tls }))}
}
`;
}
