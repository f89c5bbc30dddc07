// `dib-pypi chroot DIR -- CMD...`: its flags, help and options (run by ../chroot-command.ts).
import { defineCommand, type OptionsOf } from './declare.js';
import { HOME_OPTION, JSON_OPTION, PLAN_OPTIONS, planFlags, VARIABLES } from './shared-options.js';

export const chroot = defineCommand({
  name: 'chroot',
  summary: 'run a command in a chroot with the mirror mounted read-only at /tmp/pypi and pip configured; restore and unmount afterwards',
  usage: 'dib-pypi chroot DIR [--mirror DIR] [options] -- CMD...',
  options: {
    mirror: {
      type: 'string',
      help: `  --mirror DIR       host directory mounted read-only at DIR/tmp/pypi (default:
                     $DIB_IMAGE_CACHE/pypi/mirror when it exists, as the DIB element)`,
    },
    lock: {
      type: 'string',
      help: `  --lock FILE        install exactly what this lock pins: FILE is at
                     /tmp/pypi-requirements.lock inside DIR while CMD runs, and pip
                     runs in hash-checking mode against it`,
    },
    ...HOME_OPTION,
    'state-dir': { type: 'string', help: '  --state-dir DIR    where journals and backups live, outside the root' },
    ...PLAN_OPTIONS,
    ...JSON_OPTION,
  },
  notes: `Mounts /proc, /dev, /dev/pts and the mirror inside DIR, configures pip (as configure), runs
CMD with chroot, then unmounts and restores (as restore), also when CMD fails or on Ctrl-C /
SIGTERM (forwarded to CMD). The exit code is CMD's. After a kill, dib-pypi restore --root DIR
unmounts and restores. Needs root. With --json, CMD's standard output goes to stderr and
stdout carries one JSON object: command, root, exitCode, mounts, configured and restored
paths (unmounts included), warnings.

With --lock FILE (checked: pins with --hash lines only), FILE is written, journaled, at
/tmp/pypi-requirements.lock and pip.conf adds require-hashes = true and constraint =
/tmp/pypi-requirements.lock; both go when CMD ends, as pip.conf does. Install it with
pip install -r /tmp/pypi-requirements.lock (sdists: --no-build-isolation).

${VARIABLES}`,
  // DIR is checked as configure checks --root, and named so.
  inputs: { root: '--root' },
  positionals: { names: 'DIR -- CMD...', min: 2, max: Number.POSITIVE_INFINITY },
  normalize: (values, positionals) => ({
    ...planFlags(values),
    positionals,
    mirror: values.mirror,
    lock: values.lock,
    home: values.home,
    stateDir: values['state-dir'],
    json: values.json,
  }),
});

export type ChrootOptions = OptionsOf<typeof chroot>;
