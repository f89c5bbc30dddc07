// `dib-pypi mirror add DIR [-r FILE]... [PKG...]`: its flags, help and options (run by ../mirror-add-command.ts).
import { defineCommand, type OptionsOf } from './declare.js';
import { PROGRESS_NOTES, PROGRESS_OPTIONS_WIDE, progressFlags } from './shared-options.js';

export const mirrorAdd = defineCommand({
  name: 'mirror add',
  summary: 'fill a mirror through pip (requirements, dependencies, extras; one or more targets), write a lock, re-index',
  usage: 'dib-pypi mirror add DIR [-r FILE]... [PKG...] [options]',
  arguments: `  DIR                      the mirror directory (created when missing)
  PKG                      requirement specifiers, as for pip: 'ipython[all]', 'x>=1,<2'`,
  options: {
    requirement: {
      type: 'string',
      short: 'r',
      multiple: true,
      help: `  -r, --requirement FILE   requirements file (repeatable); pip honours the options
                           inside it (--index-url, -c, nested -r) too`,
    },
    python: { type: 'string', default: 'python3', help: '  --python PATH            the interpreter whose pip does the work (default: python3)' },
    'index-url': {
      type: 'string',
      help: `  --index-url URL          the index to fill from (default: pip's own, PyPI); a
                           directory path stands for file://PATH`,
    },
    'extra-index-url': { type: 'string', multiple: true, help: '  --extra-index-url URL    another index (repeatable)' },
    'find-links': { type: 'string', multiple: true, help: '  --find-links URL|PATH    also take files from this page or directory (repeatable)' },
    'trusted-host': { type: 'string', multiple: true, help: '  --trusted-host HOST      accept plain http:// from HOST[:port] (repeatable)' },
    'no-index': { type: 'boolean', help: '  --no-index               use no index at all (only --find-links)' },
    'python-version': { type: 'string', multiple: true, help: '  --python-version V       a target Python version: 3.11, 311, 3.11.2 (repeatable)' },
    platform: {
      type: 'string',
      multiple: true,
      help: `  --platform TAG[,TAG]     a target platform tag: manylinux2014_x86_64, win_amd64,
                           macosx_11_0_arm64 (repeatable; commas give one target
                           several tags, as pip's repeated --platform does)`,
    },
    implementation: { type: 'string', help: "  --implementation I       the targets' Python implementation: cp, pp, py" },
    abi: {
      type: 'string',
      multiple: true,
      help: `  --abi TAG                the targets' ABI tags: cp311, abi3, none (repeatable;
                           every target gets them all)`,
    },
    'only-binary': {
      type: 'string',
      multiple: true,
      help: `  --only-binary FMT        pip's --only-binary: :all:, :none: or project names
                           (repeatable)`,
    },
    'no-binary': { type: 'string', multiple: true, help: "  --no-binary FMT          pip's --no-binary (repeatable; not with targets)" },
    'build-wheels': {
      type: 'boolean',
      help: `  --build-wheels           build a wheel from every sdist pip downloaded (pip wheel
                           with --python's interpreter, so for its platform) and add
                           it beside the sdist: offline installs then compile nothing`,
    },
    'no-build-isolation': {
      type: 'boolean',
      help: `  --no-build-isolation     build sdists (their metadata, and --build-wheels) with the
                           setuptools/wheel installed in --python instead of fetching
                           build requirements from the index (needed offline)`,
    },
    pre: { type: 'boolean', help: '  --pre                    also consider pre-releases' },
    'no-cache-dir': { type: 'boolean', help: "  --no-cache-dir           do not read or fill pip's cache" },
    lock: {
      type: 'string',
      help: `  --lock FILE              where to write the lock file (default: ./requirements.lock,
                           in the current directory)`,
    },
    'no-lock': { type: 'boolean', help: '  --no-lock                write no lock file' },
    verbose: { type: 'boolean', short: 'v', help: "  -v, --verbose            show pip's whole output while it runs" },
    json: { type: 'boolean', help: '  --json                   print the summary as JSON' },
    ...PROGRESS_OPTIONS_WIDE,
  },
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
  positionals: { names: 'DIR [PKG...]', min: 1, max: Number.POSITIVE_INFINITY },
  normalize: (values, positionals) => ({
    ...progressFlags(values),
    positionals,
    requirement: values.requirement,
    python: values.python,
    indexUrl: values['index-url'],
    extraIndexUrl: values['extra-index-url'],
    findLinks: values['find-links'],
    trustedHost: values['trusted-host'],
    noIndex: values['no-index'],
    platform: values.platform,
    pythonVersion: values['python-version'],
    implementation: values.implementation,
    abi: values.abi,
    onlyBinary: values['only-binary'],
    noBinary: values['no-binary'],
    buildWheels: values['build-wheels'],
    noBuildIsolation: values['no-build-isolation'],
    pre: values.pre,
    noCacheDir: values['no-cache-dir'],
    lock: values.lock,
    noLock: values['no-lock'],
    verbose: values.verbose,
    json: values.json,
  }),
});

export type MirrorAddOptions = OptionsOf<typeof mirrorAdd>;
