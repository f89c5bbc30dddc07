// The subcommands: their flags (node:util parseArgs specs), help text, and the module that runs each, loaded on demand.
import type { ParseArgsConfig } from 'node:util';
import type { ConfigureFlags } from './configure-command.js';
import type { RootFlags } from './root-flags.js';

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

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
    options: { ...PLAN_OPTIONS, ...ROOT_OPTIONS, home: { type: 'string', default: '/root' } },
    help: `${ROOT_HELP}
  --home DIR         home directory, inside the root, of the user who runs pip
                     (default: /root)
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
    options: { ...ROOT_OPTIONS, json: { type: 'boolean' } },
    help: `${ROOT_HELP}
  --json             print the result as JSON`,
    notes: 'Also finishes the job after configure or restore was killed at any point.',
    required: ['root'],
    run: async (flags) => (await import('./restore-command.js')).runRestore(flags as unknown as RootFlags),
  },
};

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
