// The subcommands: their flags (node:util parseArgs specs), help text, and the module that runs each, loaded on demand.
import type { ParseArgsConfig } from 'node:util';
import type { ConfigureFlags } from './configure-command.js';
import type { RestoreFlags } from './restore-command.js';
import type { MirrorIndexFlags } from './mirror-index-command.js';
import type { ChrootFlags } from './chroot-command.js';
import type { MirrorVerifyFlags } from './mirror-verify-command.js';
import type { MirrorAddFlags } from './mirror-add-command.js';
import type { ServeFlags } from './serve-command.js';
import type { MirrorSyncFlags } from './mirror-sync-command.js';
import type { DockerRunFlags } from './docker-run-command.js';
import type { ElementPathFlags } from './element-path-command.js';
import type { ExecFlags } from './exec-command.js';
import type { EnvCommandFlags } from './env-command.js';
import type { MirrorExportFlags } from './mirror-export-command.js';

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

export interface CommandSpec {
  summary: string;
  usage: string;
  options: OptionSpecs;
  /** `--flag VALUE  description` lines shown by --help. */
  help: string;
  /** Paragraphs shown after the options. */
  notes: string;
  /** Flags that must be given (parseArgs has checked the types of all the others). */
  required: string[];
  /** Positional arguments: their names for usage errors, how many at least and at most. */
  positionals?: { names: string; min: number; max: number };
  /** The command parses its own arguments (`docker build` passes docker's flags through): it gets `{ rawArgs }`. */
  rawArgs?: boolean;
  run: (flags: Record<string, unknown>) => Promise<void>;
}

const PLAN_OPTIONS: OptionSpecs = {
  'mirror-url': { type: 'string', multiple: true },
  offline: { type: 'boolean' },
  'no-pypi': { type: 'boolean' },
  retries: { type: 'string' },
  'env-file': { type: 'string' },
  json: { type: 'boolean' },
};

/** exec and env print CMD's output or the variables themselves: --json has nothing to describe. */
const { json: _json, ...PLAN_OPTIONS_WITHOUT_JSON } = PLAN_OPTIONS;

const PLAN_HELP = `  --mirror-url URL   index URL (repeatable): the first is index-url, the rest
                     extra-index-url; replaces DIB_PYPI_MIRROR_URL[_N]
  --offline          do not add the public index (as DIB_OFFLINE)
  --no-pypi          do not add the public index (as DIB_NO_PYPI_PIP)
  --retries N        pip retries (as DIB_PIP_RETRIES)
  --env-file PATH    read variables from PATH (default: ./.env when present);
                     flags beat the environment, the environment beats the file
  --json             print the result as JSON`;

const ROOT_OPTIONS: OptionSpecs = {
  root: { type: 'string' },
  'state-dir': { type: 'string' },
};

const ROOT_HELP = `  --root DIR         the root filesystem (chroot directory) to work on
  --state-dir DIR    where journals and backups live, outside the root
                     (default: $DIB_PYPI_STATE_DIR, /var/lib/dib-pypi for root,
                     else $XDG_STATE_HOME/dib-pypi)`;

/** --progress and --quiet, shared by the long mirror commands (index, add, sync, verify). */
const PROGRESS_OPTIONS: OptionSpecs = {
  progress: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
};

const PROGRESS_HELP = `  --progress MODE    progress on stderr: auto (default: tty on a terminal, else
                     plain), tty (one line redrawn, with rate and ETA), plain (a
                     line as a phase gets going, every 5 s and at its end: for
                     CI logs) or none; default from $DIB_PYPI_PROGRESS
  -q, --quiet        no progress and no informational lines on stderr (warnings,
                     errors and the results on stdout stay)`;

/** The same, for the commands whose descriptions start at column 27. */
const PROGRESS_HELP_WIDE = `  --progress MODE          progress on stderr: auto (default: tty on a terminal,
                           else plain), tty (one line redrawn, with rate and
                           ETA), plain (a line as a phase gets going, every 5 s
                           and at its end: for CI logs) or none; default from
                           $DIB_PYPI_PROGRESS
  -q, --quiet              no progress and no informational lines on stderr
                           (warnings, errors and the results on stdout stay)`;

const PROGRESS_NOTES = `Progress: DIB_PYPI_PROGRESS=auto|tty|plain|none sets the default of --progress;
DIB_PYPI_PROGRESS_INTERVAL=SECONDS the time between two plain lines (default 5).`;

const VARIABLES = `Variables: DIB_PYPI_MIRROR_URL, DIB_PYPI_MIRROR_URL_<N> (numeric order), deprecated
PYPI_MIRROR_URL*, DIB_OFFLINE, DIB_NO_PYPI_PIP, DIB_PIP_RETRIES. With no URL: file:///tmp/pypi.
Without --offline or DIB_NO_PYPI_PIP, https://pypi.org/simple is added last.`;

export const COMMANDS: Record<string, CommandSpec> = {
  plan: {
    summary: 'show the plan built from flags, DIB_* variables and .env, and the pip.conf it would write',
    usage: 'dib-pypi plan [options]',
    options: PLAN_OPTIONS,
    help: PLAN_HELP,
    notes: VARIABLES,
    required: [],
    run: async (flags) => (await import('./plan-command.js')).runPlan(flags),
  },
  configure: {
    summary: 'point pip inside a root filesystem at the plan (journaled; undo with restore)',
    usage: 'dib-pypi configure --root DIR [--home /root] [options]',
    options: { ...PLAN_OPTIONS, ...ROOT_OPTIONS, home: { type: 'string', default: '/root' }, mirror: { type: 'string' } },
    help: `${ROOT_HELP}
  --home DIR         home directory, inside the root, of the user who runs pip
                     (default: /root)
  --mirror DIR       also bind-mount this host directory read-only at DIR/tmp/pypi
                     (restore unmounts it); needs root
${PLAN_HELP}`,
    notes: `Writes /etc/pip.conf and <home>/.pydistutils.cfg, and replaces <home>/.pip/pip.conf,
<home>/.config/pip/pip.conf and /etc/xdg/pip/pip.conf where they exist. The originals
are kept in a journal on the host (--state-dir), never inside the root.

${VARIABLES}`,
    required: ['root'],
    run: async (flags) => (await import('./configure-command.js')).runConfigure(flags as unknown as ConfigureFlags),
  },
  restore: {
    summary: 'give a root back every file configure changed, byte for byte (a no-op when there is nothing to restore)',
    usage: 'dib-pypi restore --root DIR [options]',
    options: { ...ROOT_OPTIONS, json: { type: 'boolean' }, 'kill-processes': { type: 'boolean' } },
    help: `${ROOT_HELP}
  --kill-processes   first stop (SIGTERM, then SIGKILL) processes still running
                     inside the root, e.g. after dib-pypi chroot was killed
  --json             print the result as JSON`,
    notes: `Also finishes the job after configure or restore was killed at any point. A journal is obeyed
only from a state directory that no one but root or the invoking user can write, and only when
it names nothing configure could not have written. Processes found inside the root are reported;
if one holds a mount restore must undo, nothing is changed unless --kill-processes is given.`,
    required: ['root'],
    run: async (flags) => (await import('./restore-command.js')).runRestore(flags as unknown as RestoreFlags),
  },
  chroot: {
    summary: 'run a command in a chroot with the mirror mounted read-only at /tmp/pypi and pip configured; restore and unmount afterwards',
    usage: 'dib-pypi chroot DIR [--mirror DIR] [options] -- CMD...',
    options: { ...PLAN_OPTIONS, 'state-dir': { type: 'string' }, mirror: { type: 'string' }, home: { type: 'string', default: '/root' } },
    help: `  --mirror DIR       host directory mounted read-only at DIR/tmp/pypi (default:
                     $DIB_IMAGE_CACHE/pypi/mirror when it exists, as the DIB element)
  --home DIR         home directory, inside the root, of the user who runs pip
                     (default: /root)
  --state-dir DIR    where journals and backups live, outside the root
${PLAN_HELP}`,
    notes: `Mounts /proc, /dev, /dev/pts and the mirror inside DIR, configures pip (as configure), runs
CMD with chroot, then unmounts and restores (as restore), also when CMD fails or on Ctrl-C /
SIGTERM (forwarded to CMD). The exit code is CMD's. After a kill, dib-pypi restore --root DIR
unmounts and restores. Needs root. With --json, CMD's standard output goes to stderr and
stdout carries one JSON object: command, root, exitCode, mounts, configured and restored
paths (unmounts included), warnings.

${VARIABLES}`,
    required: [],
    positionals: { names: 'DIR -- CMD...', min: 2, max: Number.POSITIVE_INFINITY },
    run: async (flags) => (await import('./chroot-command.js')).runChroot(flags as unknown as ChrootFlags),
  },
  exec: {
    summary: 'run a command with pip (and uv) pointed at the plan through its environment; nothing written to $HOME, /etc or the working directory',
    usage: 'dib-pypi exec [--mirror DIR] [options] -- CMD...',
    options: { ...PLAN_OPTIONS_WITHOUT_JSON, mirror: { type: 'string' } },
    help: `  --mirror DIR       serve this local mirror directory as file://DIR (the only
                     index unless --mirror-url adds more; implies --offline)
${PLAN_HELP.replace(/\n  --json .*$/s, '')}`,
    notes: `Writes the plan's pip.conf to a private temp directory (os.tmpdir(), removed when CMD ends,
fails or is stopped by SIGINT/SIGTERM/SIGHUP, which are forwarded to CMD) and sets
PIP_CONFIG_FILE to it (pip then skips the user's config files), PIP_INDEX_URL,
PIP_EXTRA_INDEX_URL, PIP_TRUSTED_HOST, PIP_RETRIES (with --retries), and for uv, which
ignores pip.conf, UV_INDEX_URL and UV_EXTRA_INDEX_URL. PIP_* and UV_* index variables
already set are reported on stderr. Exit code: CMD's (128+N when a signal N killed it);
127 when CMD is not found; 2 for bad flags. See docs/cli.md.

${VARIABLES}`,
    required: [],
    positionals: { names: '-- CMD...', min: 1, max: Number.POSITIVE_INFINITY },
    run: async (flags) => (await import('./exec-command.js')).runExec(flags as unknown as ExecFlags),
  },
  env: {
    summary: 'print the variables that point pip and uv at the plan, for eval in a shell or a CI environment file',
    usage: 'dib-pypi env [--format sh|fish|github|dotenv] [--mirror DIR] [options]',
    options: { ...PLAN_OPTIONS_WITHOUT_JSON, format: { type: 'string' }, mirror: { type: 'string' } },
    help: `  --format FORMAT    sh (default; eval "$(dib-pypi env)"), fish (... | source),
                     github (append to $GITHUB_ENV) or dotenv (a .env file)
  --mirror DIR       the index is file://DIR (implies --offline)
${PLAN_HELP.replace(/\n  --json .*$/s, '')}`,
    notes: `Prints PIP_CONFIG_FILE=/dev/null (pip reads no config file at all), PIP_INDEX_URL,
PIP_EXTRA_INDEX_URL, PIP_TRUSTED_HOST, PIP_RETRIES (with --retries), UV_INDEX_URL and
UV_EXTRA_INDEX_URL. Values are printed as they are, credentials included (the job needs them):
a warning on stderr says so. See docs/cli.md.

${VARIABLES}`,
    required: [],
    run: async (flags) => (await import('./env-command.js')).runEnv(flags as unknown as EnvCommandFlags),
  },
  'docker build': {
    summary: 'docker build with pip pointed at the mirror through BuildKit mounts: offline, and nothing of it in the image',
    usage: 'dib-pypi docker build [--mirror DIR] [options] [docker build flags] CONTEXT',
    options: {},
    rawArgs: true,
    help: `  CONTEXT            the build context: a local directory
  --mirror DIR       the mirror to mount at /tmp/pypi in every RUN (default:
                     $DIB_IMAGE_CACHE/pypi/mirror when it exists, as the DIB element)
  --mirror-url URL   index URL (repeatable): the first is index-url, the rest
                     extra-index-url; replaces DIB_PYPI_MIRROR_URL[_N]
  --offline          do not add the public index (as DIB_OFFLINE)
  --no-pypi          do not add the public index (as DIB_NO_PYPI_PIP)
  --retries N        pip retries (as DIB_PIP_RETRIES)
  --env-file PATH    read variables from PATH (default: ./.env when present)
  Every other flag is docker build's and passes through unchanged: -t, -f,
  --build-arg, --target, --no-cache, --pull, --progress, --network, ...`,
    notes: `The Dockerfile (-f FILE, default CONTEXT/Dockerfile; -f - reads it from stdin) is not
changed: a copy in a temp directory, in which every RUN also mounts the plan's pip.conf at
/etc/pip.conf (a BuildKit secret) and the mirror (imported once per change as the local
image dib-pypi-mirror:<hash>) read-only at /tmp/pypi, is built. Neither is in any layer,
in docker history or in the image config; the empty /tmp/pypi mount point directory
stays (BuildKit leaves it). pip runs with no-cache-dir, so no index page is cached.

Network: without --network, none when every index is a file:// URL, host when an index is
on the loopback (http://127.0.0.1:PORT/...). Needs BuildKit: docker 20.10-22.x with
DOCKER_BUILDKIT=1 (set by dib-pypi) or docker 23+ with buildx; DIB_PYPI_DOCKER names the
docker CLI to run (default: docker). No # syntax= frontend can be pulled offline.
Exit code: docker build's (1 when a RUN fails); 2 for bad flags.

${VARIABLES}`,
    required: [],
    run: async (flags) => (await import('./docker-build-command.js')).runDockerBuild(flags as unknown as { rawArgs: string[] }),
  },
  'docker run': {
    summary: 'run a command in a container with the mirror and pip.conf mounted (network none); optionally commit it, without them',
    usage: 'dib-pypi docker run IMAGE [--mirror DIR] [--commit TAG] [options] -- CMD...',
    options: { ...PLAN_OPTIONS, mirror: { type: 'string' }, commit: { type: 'string' }, network: { type: 'string' } },
    help: `  IMAGE              the image to run CMD in (local; nothing is pulled)
  --mirror DIR       host directory mounted read-only at /tmp/pypi (default:
                     $DIB_IMAGE_CACHE/pypi/mirror when it exists)
  --commit TAG       when CMD succeeds, commit the container as TAG: its files,
                     with the image's own config (Cmd, Env, ...) and without the
                     mounts or the mount points they needed
  --network NAME     the container's network (default: none, or host when an
                     index is on the loopback)
${PLAN_HELP}`,
    notes: `Talks to the Docker engine (DOCKER_HOST, default /var/run/docker.sock) through its API.
pip.conf (the plan's, no-cache-dir) is a read-only bind mount at /etc/pip.conf, never a
file written into the container. CMD's output streams; its exit code is ours. The
container is removed afterwards, also on failure and Ctrl-C / SIGTERM. With --json, CMD's
standard output goes to stderr and stdout carries one JSON object: command, image,
exitCode, container, network, mounts, committed and imageId (with --commit), removed.

${VARIABLES}`,
    required: [],
    positionals: { names: 'IMAGE -- CMD...', min: 2, max: Number.POSITIVE_INFINITY },
    run: async (flags) => (await import('./docker-run-command.js')).runDockerRun(flags as unknown as DockerRunFlags),
  },
  'mirror index': {
    summary: 'write the PEP 503 + 691 index (with PEP 658 metadata files) of a mirror directory',
    usage: 'dib-pypi mirror index DIR [--full] [--json]',
    options: { full: { type: 'boolean' }, json: { type: 'boolean' }, ...PROGRESS_OPTIONS },
    help: `  --full             re-list, re-stat and re-hash everything instead of trusting
                     the manifest (.dib-pypi/manifest.json) and directory mtimes
  --json             print the result as JSON
${PROGRESS_HELP}`,
    notes: `DIR holds distribution files (wheels, sdists), at the top level or in <project>/
directories. The index is written beside them: index.html + index.json at the top and in
each <project>/, and <wheel>.metadata (PEP 658) beside every wheel; see docs/mirror-layout.md.
A later run redoes only what changed. A file named <file>.yanked marks <file> yanked (its
text is the reason). Broken files are reported and skipped: exit 1 after indexing the rest.

${PROGRESS_NOTES}`,
    required: [],
    positionals: { names: 'DIR', min: 1, max: 1 },
    run: async (flags) => (await import('./mirror-index-command.js')).runMirrorIndex(flags as unknown as MirrorIndexFlags),
  },
  'mirror add': {
    summary: 'fill a mirror through pip (requirements, dependencies, extras; one or more targets), write a lock, re-index',
    usage: 'dib-pypi mirror add DIR [-r FILE]... [PKG...] [options]',
    options: {
      requirement: { type: 'string', short: 'r', multiple: true },
      python: { type: 'string', default: 'python3' },
      'index-url': { type: 'string' },
      'extra-index-url': { type: 'string', multiple: true },
      'find-links': { type: 'string', multiple: true },
      'trusted-host': { type: 'string', multiple: true },
      'no-index': { type: 'boolean' },
      'python-version': { type: 'string', multiple: true },
      platform: { type: 'string', multiple: true },
      implementation: { type: 'string' },
      abi: { type: 'string', multiple: true },
      'only-binary': { type: 'string', multiple: true },
      'no-binary': { type: 'string', multiple: true },
      'build-wheels': { type: 'boolean' },
      'no-build-isolation': { type: 'boolean' },
      pre: { type: 'boolean' },
      'no-cache-dir': { type: 'boolean' },
      lock: { type: 'string' },
      'no-lock': { type: 'boolean' },
      verbose: { type: 'boolean', short: 'v' },
      json: { type: 'boolean' },
      ...PROGRESS_OPTIONS,
    },
    help: `  DIR                      the mirror directory (created when missing)
  PKG                      requirement specifiers, as for pip: 'ipython[all]', 'x>=1,<2'
  -r, --requirement FILE   requirements file (repeatable); pip honours the options
                           inside it (--index-url, -c, nested -r) too
  --python PATH            the interpreter whose pip does the work (default: python3)
  --index-url URL          the index to fill from (default: pip's own, PyPI); a
                           directory path stands for file://PATH
  --extra-index-url URL    another index (repeatable)
  --find-links URL|PATH    also take files from this page or directory (repeatable)
  --trusted-host HOST      accept plain http:// from HOST[:port] (repeatable)
  --no-index               use no index at all (only --find-links)
  --python-version V       a target Python version: 3.11, 311, 3.11.2 (repeatable)
  --platform TAG[,TAG]     a target platform tag: manylinux2014_x86_64, win_amd64,
                           macosx_11_0_arm64 (repeatable; commas give one target
                           several tags, as pip's repeated --platform does)
  --implementation I       the targets' Python implementation: cp, pp, py
  --abi TAG                the targets' ABI tags: cp311, abi3, none (repeatable;
                           every target gets them all)
  --only-binary FMT        pip's --only-binary: :all:, :none: or project names
                           (repeatable)
  --no-binary FMT          pip's --no-binary (repeatable; not with targets)
  --build-wheels           build a wheel from every sdist pip downloaded (pip wheel
                           with --python's interpreter, so for its platform) and add
                           it beside the sdist: offline installs then compile nothing
  --no-build-isolation     build sdists (their metadata, and --build-wheels) with the
                           setuptools/wheel installed in --python instead of fetching
                           build requirements from the index (needed offline)
  --pre                    also consider pre-releases
  --no-cache-dir           do not read or fill pip's cache
  --lock FILE              where to write the lock file (default: ./requirements.lock,
                           in the current directory)
  --no-lock                write no lock file
  -v, --verbose            show pip's whole output while it runs
  --json                   print the summary as JSON
${PROGRESS_HELP_WIDE}`,
    notes: `pip runs isolated: --isolated, no PIP_* variables and PIP_CONFIG_FILE=/dev/null, so no
pip.conf (global, user or site) and no PIP_* setting of this machine changes the result;
only these flags and the options inside -r files count.

Targets: with no --python-version, --platform, --implementation or --abi there is one pip
download run, for the interpreter itself; it takes wheels or sdists as pip prefers. With
them, there is one run per combination of --python-version and --platform (e.g. two
versions x two platforms = four runs), each with --implementation and every --abi. pip takes
only wheels for such foreign targets, so dib-pypi adds --only-binary=:all: (with another
--only-binary, or with --no-binary, it stops with a usage error): an sdist-only project then
fails for them; add it with a run without targets.

Every run downloads into a temp directory in DIR/.dib-pypi/. Only when all runs (and
--build-wheels) succeeded does anything move into DIR: each file to DIR/<project>/ (project
name normalised, PEP 503), atomically. A file already there with the same bytes is skipped; with
other bytes it is an error and nothing moves (a distribution is never overwritten). Then the
lock file is written and DIR is re-indexed, as by dib-pypi mirror index.

The lock file (pip --require-hashes format) pins every project==version the runs resolved,
with a --hash=sha256: line for every file of that version now in DIR (sdist, built wheel,
the wheels of every target, also those from earlier runs), so the same lock installs on
each target: pip install --require-hashes --index-url file:///tmp/pypi -r requirements.lock.
When targets resolved different versions (or a dependency only some need), those pins get
python_version / sys_platform markers; where those cannot tell the targets apart, the lock
is refused (exit 1) after DIR was filled. A lock an earlier run wrote at that path is merged
into, never replaced: its other projects stay, a project resolved again takes this run's
pins, and the summary lists the pins added and changed. A file there that mirror add did not
write stops the run before anything is downloaded.

Exit codes: 0 ok; 1 pip failed (the message names the target and the requirement, then
the pip command line and its output), a file conflict, or broken files in the index;
2 bad flags.

${PROGRESS_NOTES}`,
    required: [],
    positionals: { names: 'DIR [PKG...]', min: 1, max: Number.POSITIVE_INFINITY },
    run: async (flags) => (await import('./mirror-add-command.js')).runMirrorAdd(flags as unknown as MirrorAddFlags),
  },
  'mirror sync': {
    summary: 'download selected projects from an upstream simple index into a mirror (verified, parallel, incremental), then re-index',
    usage: 'dib-pypi mirror sync DIR --upstream URL [--project NAME]... [filters] [options]',
    options: {
      upstream: { type: 'string' },
      project: { type: 'string', multiple: true },
      requirements: { type: 'string', short: 'r', multiple: true },
      'python-version': { type: 'string', multiple: true },
      platform: { type: 'string', multiple: true },
      'package-type': { type: 'string', multiple: true },
      extension: { type: 'string', multiple: true },
      latest: { type: 'string' },
      pre: { type: 'boolean' },
      exclude: { type: 'string', multiple: true },
      'max-file-size': { type: 'string' },
      jobs: { type: 'string', short: 'j' },
      delete: { type: 'boolean' },
      timeout: { type: 'string' },
      retries: { type: 'string' },
      config: { type: 'string' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
      ...PROGRESS_OPTIONS,
    },
    help: `  DIR                      the mirror directory (created when missing)
  --upstream URL           the upstream simple index (PEP 503 HTML or PEP 691 JSON),
                           e.g. https://user:token@host/simple/ (credentials are
                           sent to that host only and never printed)
  --project NAME           sync only this project (repeatable); default: every
                           project on the upstream's root page
  -r, --requirements FILE  sync the projects named in a requirements file (names
                           only: versions, extras and markers are not filters)
  --python-version V       keep files for this Python (3.11; repeatable): wheels
                           whose python tag fits (py3, cp311, cp38-abi3, ...) and
                           files whose requires-python admits V
  --platform TAG           keep wheels for this platform (repeatable), e.g.
                           manylinux_2_17_x86_64 (older manylinux/musllinux/macOS
                           of the same arch fit too); pure wheels and sdists stay
  --package-type T         wheel or sdist (repeatable)
  --extension EXT          keep files with this extension: .whl, .tar.gz (repeatable)
  --latest N               keep the files of the newest N releases per project (PEP
                           440 order; yanked-only releases do not count)
  --pre                    with --latest: count pre-releases and dev releases too
  --exclude PATTERN        leave out projects or files whose (normalised) name
                           matches this glob (* and ?; repeatable)
  --max-file-size SIZE     leave out files larger than SIZE (500000, 10M, 1.5GB)
  -j, --jobs N             parallel requests (default 8)
  --delete                 delete what upstream no longer lists or the filters now
                           exclude: files of the synced projects and, when syncing
                           every project (no --project/-r), whole projects gone
                           from the root page (files, sidecars, .metadata, pages,
                           the directory). Without --delete nothing is deleted
  --timeout SECONDS        a request with no progress for this long fails (default 30)
  --retries N              retries of a failed request, with backoff, on connection
                           errors, timeouts and HTTP 5xx/429 (default 4)
  --config FILE            read these options from FILE: TOML (.toml) or INI (.ini,
                           .cfg, .conf), at the top level or in a [sync] section,
                           with the flags' names; flags beat the file
  --dry-run                print what would be downloaded and its size; write nothing
  --json                   print the summary as JSON
${PROGRESS_HELP_WIDE}`,
    notes: `Every file is streamed to a hidden temp file beside its final name, hashed while it
streams, and renamed into DIR/<project>/ only when its hash (sha256, or upstream's other
sha-2) matches the upstream page; otherwise it is removed and the file counts as failed.
Yanked files get a <file>.yanked sidecar, upload times a <file>.upload-time sidecar. A
file already in the mirror with other bytes is never overwritten (failed). The run ends
with an incremental re-index (as dib-pypi mirror index), so DIR is a valid mirror.

A second run asks for each project page with its ETag / Last-Modified (kept in
DIR/.dib-pypi/sync-state.json) and skips the projects that did not change; a killed
run resumes: finished files stay, temp files are removed, the rest is fetched again.
Files are made durable together (DIR/.dib-pypi/sync-journal lists those not yet on
disk; one syncfs at the end): after a power loss, the next run re-hashes the files the
journal lists and fetches again any whose bytes were lost.

Exit codes: 0 ok; 1 any file or project failed (after doing all the rest: the summary
lists them) or the upstream cannot be reached; 2 bad flags or config.

${PROGRESS_NOTES}`,
    required: [],
    positionals: { names: 'DIR', min: 1, max: 1 },
    run: async (flags) => (await import('./mirror-sync-command.js')).runMirrorSync(flags as unknown as MirrorSyncFlags),
  },
  'mirror export': {
    summary: 'make a new, minimal, indexed mirror holding exactly the files a lock pins (checked by sha256; same lock, same bytes)',
    usage: 'dib-pypi mirror export LOCKFILE OUTDIR [--from MIRROR] [--copy] [--json]',
    options: { from: { type: 'string' }, copy: { type: 'boolean' }, json: { type: 'boolean' } },
    help: `  LOCKFILE           a lock in pip's --require-hashes format (as mirror add writes)
  OUTDIR             the new mirror: must not exist, or be an empty directory
  --from MIRROR      the indexed mirror to take the files from (default:
                     $DIB_IMAGE_CACHE/pypi/mirror, as the DIB element)
  --copy             copy every file (a reflink where the file system can) instead
                     of hard-linking it: nothing shared with MIRROR, and the tree
                     (.dib-pypi/ included) depends only on the lock and the bytes
  --json             print the result as JSON`,
    notes: `Every --hash=sha256: of every pin is looked up in MIRROR's index; the file of that
project with that hash goes to OUTDIR/<project>/<file> (all of a pin's hashes: the
wheels of every platform and the sdist the lock lists), with its .yanked and
.upload-time sidecars, and its bytes are hashed again where they now are. Then OUTDIR
is indexed (as dib-pypi mirror index): pip install --require-hashes
--index-url file://OUTDIR -r LOCKFILE works offline, and dib-pypi mirror verify OUTDIR
passes. The export is built in a hidden sibling directory renamed to OUTDIR at the end:
on failure nothing is left at OUTDIR.

Files are hard-linked from MIRROR when both are on the same file system (no bytes
copied; a link shares its inode, mode and mtime with MIRROR's file: never modify an
export's files in place), else copied (a reflink where the file system can). Every
directory and copied file gets the mtime 1980-01-01, so the same lock over the same
files gives the same tree, byte for byte; with hard links the index's own record
(.dib-pypi/manifest.d/) holds the linked files' mtimes, which are MIRROR's: --copy
makes that part independent of MIRROR too.

Exit codes: 0 ok; 1 a locked hash is not in MIRROR (missing: PIN (sha256 ...)) or a
file's bytes differ from its hash (mismatch: PATH (...)), each named on its own line;
2 bad usage, an unreadable lock, an unindexed MIRROR or an OUTDIR that is not empty.`,
    required: [],
    positionals: { names: 'LOCKFILE OUTDIR', min: 2, max: 2 },
    run: async (flags) => (await import('./mirror-export-command.js')).runMirrorExport(flags as unknown as MirrorExportFlags),
  },
  'mirror verify': {
    summary: 're-hash every file of a mirror against its index; report corrupted, missing, unindexed files and stale pages',
    usage: 'dib-pypi mirror verify DIR [--repair] [--json]',
    options: { repair: { type: 'boolean' }, json: { type: 'boolean' }, ...PROGRESS_OPTIONS },
    help: `  --repair           move corrupted files to DIR/.dib-pypi/quarantine/ (never
                     re-hash them into the index), then re-index everything
  --json             print the findings as JSON
${PROGRESS_HELP}`,
    notes: `Exit 0 when everything matches, 1 when anything is wrong (each finding names its path).

${PROGRESS_NOTES}`,
    required: [],
    positionals: { names: 'DIR', min: 1, max: 1 },
    run: async (flags) => (await import('./mirror-verify-command.js')).runMirrorVerify(flags as unknown as MirrorVerifyFlags),
  },
  serve: {
    summary: 'serve a mirror over HTTP: PEP 503 HTML and PEP 691 JSON by Accept, files, PEP 658 metadata',
    usage: 'dib-pypi serve [DIR] [--host 127.0.0.1] [--port 8080] [options]',
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'no-index': { type: 'boolean' },
      'cache-mb': { type: 'string' },
      'access-log': { type: 'boolean' },
      'log-format': { type: 'string' },
      'nginx-conf': { type: 'boolean' },
      'nginx-prefix': { type: 'string' },
      'upload-auth': { type: 'string' },
      'allow-overwrite': { type: 'boolean' },
      'max-upload-mb': { type: 'string' },
      upstream: { type: 'string', multiple: true },
      offline: { type: 'boolean' },
      ttl: { type: 'string' },
      timeout: { type: 'string' },
      'allow-upstream': { type: 'string', multiple: true },
      workers: { type: 'string' },
      'max-connections': { type: 'string' },
      'headers-timeout': { type: 'string' },
      'max-login-failures': { type: 'string' },
      'max-page-size': { type: 'string' },
      'max-file-size': { type: 'string' },
      config: { type: 'string' },
      'print-config': { type: 'boolean' },
    },
    help: `  --config FILE      read settings from a TOML file: the flags' names as keys
                     (port = 8080, upstream = ["https://..."], dir = "/srv/pypi"),
                     at the top level or in a [serve] table
  --print-config     print the effective settings (secrets redacted) and exit
  --host ADDR        address to listen on (default: 127.0.0.1, this machine only)
  --port N           port (default: 8080); 0 picks a free port (the URL is printed)
  --workers N|auto   processes serving DIR, sharing the port (default: auto, one per
                     core, at most 4); the pull-through cache and uploads always run
                     in one process
  --no-index         serve DIR's index as it is (default: bring it up to date first,
                     as dib-pypi mirror index does; a read-only DIR is served as it is)
  --cache-mb N       memory for index pages and small files, per process (default:
                     64); bigger files are always streamed from disk
  --access-log       print one line per request on stdout (default: off)
  --log-format F     with --access-log: combined (default; Apache's combined format,
                     then the duration in seconds and the cache status) or json
  --nginx-conf       print an nginx configuration serving DIR the same way (PEP 691
                     negotiation, /simple/), for conf.d, and exit
  --nginx-prefix DIR with --nginx-conf: print a whole nginx.conf instead, that runs on
                     its own (nginx -p DIR -c FILE) with its pid, logs and temp in DIR
  --upload-auth FILE enable uploads (twine upload --repository-url http://HOST:PORT/)
                     for the users of FILE, an htpasswd file of bcrypt entries
                     (htpasswd -B); DIB_PYPI_UPLOAD_TOKEN=T also enables them, for
                     user __token__ with password T
  --allow-overwrite  let an upload replace a file of the same name (default: 409)
  --max-upload-mb N  largest file accepted (default: 1024)
  --max-login-failures N  wrong passwords a client (IPv4 address, IPv6 /64) may send
                     per minute; then 429 with Retry-After (default: 10; 0: no limit)
  --max-connections N  open connections per process (default: 1024, less when
                     ulimit -n is lower); past it the longest idle one is closed
  --headers-timeout SECONDS  a connection that sends no whole request head this long
                     after connecting or after its last answer is closed (default: 10)
  --upstream URL     be a pull-through cache of this PEP 503/691 index (repeatable:
                     tried in order; the first that has a project serves all of it);
                     user:password@ in the URL is sent to that host only, never printed
  --ttl SECONDS      how long a fetched project page is fresh (default: 600)
  --timeout SECONDS  upstream request timeout (default: 10); a request for a kept
                     page waits this long at most, retries included, then gets it stale
  --max-page-size SIZE  largest upstream page read (default: 64MiB; 512K, 8M, 1G...)
  --max-file-size SIZE  largest upstream file fetched (default: 1GiB); a bigger one is
                     left off the page when its size is known, else cut off: nothing kept
  --offline          never contact the upstream: serve what is cached (pages list
                     the cached files only)
  --allow-upstream NAME  also proxy NAME although it has private uploads (repeatable;
                     by default such a project is served from this server only)`,
    notes: `DIR is a mirror (docs/mirror-layout.md; default: $DIB_IMAGE_CACHE/pypi/mirror).
The index answers at / and at /simple/ (either works as pip's --index-url):
  GET /simple/                 root page        GET /simple/<project>/    project page
  GET /simple/<project>/<file> distribution     GET .../<file>.metadata   PEP 658 metadata
  GET /health                  {"status":"ok"|"degraded"|"fail","problems":[...]}
                               (503 when failed)
  GET /metrics                 counters in the Prometheus text format
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
uploads counts as private.
Every flag can also be set by a DIB_PYPI_SERVE_<FLAG> variable (DIB_PYPI_SERVE_PORT=8080,
DIB_PYPI_SERVE_UPSTREAM="URL URL", DIB_PYPI_SERVE_OFFLINE=1, DIB_PYPI_SERVE_DIR=/srv/pypi,
DIB_PYPI_SERVE_CONFIG=FILE) or in the --config file: flags beat variables, which beat the file.
SIGINT/SIGTERM stop the server.`,
    required: [],
    positionals: { names: '[DIR]', min: 0, max: 1 },
    run: async (flags) => (await import('./serve-command.js')).runServe(flags as unknown as ServeFlags),
  },
  'element-path': {
    summary: 'print the directory holding the installed DIB pypi element, for ELEMENTS_PATH',
    usage: 'dib-pypi element-path [--json]',
    options: { json: { type: 'boolean' } },
    help: `  --json             print {"elementsPath": DIR, "element": DIR/pypi}`,
    notes: `Put the directory first on ELEMENTS_PATH so that this pypi element wins over
diskimage-builder's own:
  export ELEMENTS_PATH="$(dib-pypi element-path)\${ELEMENTS_PATH:+:$ELEMENTS_PATH}"
  disk-image-create -o image debian-minimal pypi my-element
The element runs the dib-pypi of the same installation (unless DIB_PYPI_BIN names
another), so it need not be on the PATH that sudo keeps.`,
    required: [],
    run: async (flags) => (await import('./element-path-command.js')).runElementPath(flags as unknown as ElementPathFlags),
  },
};

/** Command groups (`mirror`): the first word of multi-word commands. */
export function isGroup(name: string): boolean {
  return name !== '' && !name.includes(' ') && Object.keys(COMMANDS).some((c) => c.startsWith(`${name} `));
}

/** `dib-pypi mirror --help` */
export function groupHelp(group: string): string {
  const lines = Object.entries(COMMANDS)
    .filter(([name]) => name.startsWith(`${group} `))
    .map(([name, spec]) => `  ${name.slice(group.length + 1).padEnd(16)} ${spec.summary}`);
  return `Usage: dib-pypi ${group} <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun dib-pypi ${group} <command> --help for each command's options.`;
}

/** `dib-pypi --help` */
export function programHelp(): string {
  const lines = Object.entries(COMMANDS).map(([name, spec]) => `  ${name.padEnd(16)} ${spec.summary}`);
  return `Usage: dib-pypi <command> [options]

Offline, reproducible pip installs inside image builds (a successor of
diskimage-builder's pypi element).

Commands:
${lines.join('\n')}
  help [command]   show help for a command

Options:
  -h, --help       show help
  -V, --version    print the version

Exit codes: 0 ok, 1 failure, 2 bad usage or input.`;
}

/** `dib-pypi COMMAND --help` */
export function commandHelp(name: string, spec: CommandSpec): string {
  const summary = `${spec.summary[0]?.toUpperCase()}${spec.summary.slice(1)}.`;
  return `Usage: ${spec.usage}\n\n${summary}\n\nOptions:\n${spec.help}\n  -h, --help         show this help\n\n${spec.notes}`;
}
