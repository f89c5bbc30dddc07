// `dib-pypi serve [DIR]`: its help and options (flags in serve-options.ts; run by ../serve-command.ts).
import { defineCommand } from './declare.js';
import { SERVE_HELP_ORDER, SERVE_OPTIONS, type ServeCommandLine } from './serve-options.js';

export const serve = defineCommand({
  name: 'serve',
  summary: 'serve a mirror over HTTP: PEP 503 HTML and PEP 691 JSON by Accept, files, PEP 658 metadata',
  usage: 'dib-pypi serve [DIR] [--host 127.0.0.1] [--port 8080] [options]',
  options: SERVE_OPTIONS,
  helpOrder: SERVE_HELP_ORDER,
  notes: `DIR is a mirror (docs/mirror-layout.md; default: $DIB_IMAGE_CACHE/pypi/mirror).
The index answers at / and at /simple/ (either works as pip's --index-url):
  GET /simple/                 root page        GET /simple/<project>/    project page
  GET /simple/<project>/<file> distribution     GET .../<file>.metadata   PEP 658 metadata
  GET /health                  {"status":"ok"|"degraded"|"fail","problems":[...]}
                               (503 when failed)
  GET /metrics                 counters in the Prometheus text format
  GET /+ui/                    a web page for people (a browser at / gets it too):
                               project search, project pages, /+ui/+status
Pages are PEP 691 JSON or HTML by the Accept header (or ?format=json|html), gzip when
asked, with ETag/Last-Modified (304); files answer Range requests. Pages and small files
are held in memory (re-checked on disk at most once a second); nothing scans DIR per request.
As a pull-through cache, a project page comes from upstream with its links pointing here
and is kept (DIR/.dib-pypi/upstream/); a file is downloaded on its first request, streamed
to that client while written, checked against upstream's sha256 (a mismatch is cut off
and nothing kept) and stored as DIR/<project>/<file>: DIR stays a mirror (file://, mirror
index, mirror verify work on it). When upstream fails, is slow or answers 5xx, the kept
page is served with X-Dib-Pypi-Cache: stale and a Warning header, listing only the
files cached (pip then takes the newest version it can get). A file is fetched and stored
only under the project its name says: an upstream cannot add files to another project. The root page lists
the projects in DIR only.
Uploads (POST / or /legacy/, twine's API) need Basic auth (401 without, 403 when wrong,
429 past --max-login-failures; answered before the body is read, then the connection is
closed); the file name must be printable ASCII, a wheel or a .tar.gz/.zip sdist of the
form's project and version, its digests must match, and its METADATA or PKG-INFO must
name that project and version (safe member names, at most 2 GiB unpacked). A name that
differs from an existing file's only in case, separators or version spelling
(NewPkg-1.0 vs newpkg-01.0) is the same file: 409. It is received into DIR/.dib-pypi/,
put in place atomically and the index is updated before the answer. A project with
uploads counts as private. With --acl, a user may upload to a project the ACL
grants them or that they own; anything else is 403 with the reason (also in the status
line, which twine prints).
With --read-auth, every request but /health, /metrics and uploads needs a user of that
file (401 with WWW-Authenticate otherwise; pip then asks its keyring or ~/.netrc, or takes
https://user:password@host/simple/); wrong passwords count toward --max-login-failures; /metrics needs --metrics-auth's users.
Each user's password is checked with bcrypt once, then remembered (as a keyed hash, in
memory) until the file changes. With --tls-cert and --tls-key the server speaks HTTPS only;
SIGHUP reads the pair (and the htpasswd files) again. Uploads or --read-auth on an address
other than loopback without TLS send passwords in clear text: a warning says so.
Every flag can also be set by a DIB_PYPI_SERVE_<FLAG> variable (DIB_PYPI_SERVE_PORT=8080,
DIB_PYPI_SERVE_UPSTREAM="URL URL", DIB_PYPI_SERVE_OFFLINE=1, DIB_PYPI_SERVE_DIR=/srv/pypi,
DIB_PYPI_SERVE_CONFIG=FILE) or in the --config file: flags beat variables, which beat the file.
SIGINT/SIGTERM stop the server; SIGHUP (with TLS or a password file) reloads as above.`,
  // The serve module gives parseSize (src/mirror/sync/options.ts) the size limits by their flags' names.
  inputs: {
    htpasswd: '--upload-auth',
    acl: '--acl',
    'tls-cert': '--tls-cert',
    'tls-key': '--tls-key',
    '--max-page-size': '--max-page-size',
    '--max-file-size': '--max-file-size',
    '--cache-max-size': '--cache-max-size',
  },
  positionals: { names: '[DIR]', min: 0, max: 1 },
  // The environment and the --config file are layered below these flags when serve runs (serve-settings.ts).
  normalize: (values, positionals): ServeCommandLine => ({ values, positionals }),
});
