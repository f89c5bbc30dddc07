// Flags several commands share (the plan's, a root's, progress), with their help lines, and their normalisers.
import type { OptionSpecs, Values } from './declare.js';

export const PLAN_OPTIONS = {
  'mirror-url': {
    type: 'string',
    multiple: true,
    help: `  --mirror-url URL   index URL (repeatable): the first is index-url, the rest
                     extra-index-url; replaces DIB_PYPI_MIRROR_URL[_N]`,
  },
  offline: { type: 'boolean', help: '  --offline          do not add the public index (as DIB_OFFLINE)' },
  'no-pypi': { type: 'boolean', help: '  --no-pypi          do not add the public index (as DIB_NO_PYPI_PIP)' },
  retries: { type: 'string', help: '  --retries N        pip retries (as DIB_PIP_RETRIES)' },
  'env-file': {
    type: 'string',
    help: `  --env-file PATH    read variables from PATH (default: ./.env when present);
                     flags beat the environment, the environment beats the file`,
  },
} as const satisfies OptionSpecs;

export const JSON_OPTION = { json: { type: 'boolean', help: '  --json             print the result as JSON' } } as const satisfies OptionSpecs;

/** The plan's flags as plan-input.ts takes them. */
export function planFlags(values: Values<typeof PLAN_OPTIONS>) {
  return { mirrorUrl: values['mirror-url'], offline: values.offline, noPypi: values['no-pypi'], retries: values.retries, envFile: values['env-file'] };
}

export const ROOT_OPTIONS = {
  root: { type: 'string', required: true, help: '  --root DIR         the root filesystem (chroot directory) to work on' },
  'state-dir': {
    type: 'string',
    help: `  --state-dir DIR    where journals and backups live, outside the root
                     (default: $DIB_PYPI_STATE_DIR, /var/lib/dib-pypi for root,
                     else $XDG_STATE_HOME/dib-pypi)`,
  },
} as const satisfies OptionSpecs;

export const HOME_OPTION = {
  home: {
    type: 'string',
    default: '/root',
    help: `  --home DIR         home directory, inside the root, of the user who runs pip
                     (default: /root)`,
  },
} as const satisfies OptionSpecs;

/** --progress and --quiet, shared by the long mirror commands (index, add, sync, verify). */
export const PROGRESS_OPTIONS = {
  progress: {
    type: 'string',
    help: `  --progress MODE    progress on stderr: auto (default: tty on a terminal, else
                     plain), tty (one line redrawn, with rate and ETA), plain (a
                     line as a phase gets going, every 5 s and at its end: for
                     CI logs) or none; default from $DIB_PYPI_PROGRESS`,
  },
  quiet: {
    type: 'boolean',
    short: 'q',
    help: `  -q, --quiet        no progress and no informational lines on stderr (warnings,
                     errors and the results on stdout stay)`,
  },
} as const satisfies OptionSpecs;

/** The same, for the commands whose descriptions start at column 27. */
export const PROGRESS_OPTIONS_WIDE = {
  progress: {
    type: 'string',
    help: `  --progress MODE          progress on stderr: auto (default: tty on a terminal,
                           else plain), tty (one line redrawn, with rate and
                           ETA), plain (a line as a phase gets going, every 5 s
                           and at its end: for CI logs) or none; default from
                           $DIB_PYPI_PROGRESS`,
  },
  quiet: {
    type: 'boolean',
    short: 'q',
    help: `  -q, --quiet              no progress and no informational lines on stderr
                           (warnings, errors and the results on stdout stay)`,
  },
} as const satisfies OptionSpecs;

/** --progress and --quiet as progress-flags.ts takes them. */
export function progressFlags(values: { progress?: string; quiet?: boolean }) {
  return { progress: values.progress, quiet: values.quiet };
}

export const PROGRESS_NOTES = `Progress: DIB_PYPI_PROGRESS=auto|tty|plain|none sets the default of --progress;
DIB_PYPI_PROGRESS_INTERVAL=SECONDS the time between two plain lines (default 5).`;

export const VARIABLES = `Variables: DIB_PYPI_MIRROR_URL, DIB_PYPI_MIRROR_URL_<N> (numeric order), deprecated
PYPI_MIRROR_URL*, DIB_OFFLINE, DIB_NO_PYPI_PIP, DIB_PIP_RETRIES. With no URL: file:///tmp/pypi.
Without --offline or DIB_NO_PYPI_PIP, https://pypi.org/simple is added last.`;
