// `dib-pypi exec -- CMD...`: its flags, help and options (run by ../exec-command.ts).
import { defineCommand, type OptionsOf } from './declare.js';
import { PLAN_OPTIONS, planFlags, VARIABLES } from './shared-options.js';

/** exec and env print CMD's output or the variables themselves: --json has nothing to describe. */
export const exec = defineCommand({
  name: 'exec',
  summary: 'run a command with pip (and uv) pointed at the plan through its environment; nothing written to $HOME, /etc or the working directory',
  usage: 'dib-pypi exec [--mirror DIR] [options] -- CMD...',
  options: {
    mirror: {
      type: 'string',
      help: `  --mirror DIR       serve this local mirror directory as file://DIR (the only
                     index unless --mirror-url adds more; implies --offline)`,
    },
    lock: {
      type: 'string',
      help: `  --lock FILE        install exactly what this lock pins: pip runs in
                     hash-checking mode with FILE as a constraint
                     (PIP_REQUIRE_HASHES, PIP_CONSTRAINT); give it to pip too:
                     pip install -r FILE`,
    },
    ...PLAN_OPTIONS,
  },
  notes: `Writes the plan's pip.conf to a private temp directory (os.tmpdir(), removed when CMD ends,
fails or is stopped by SIGINT/SIGTERM/SIGHUP, which are forwarded to CMD) and sets
PIP_CONFIG_FILE to it (pip then skips the user's config files), PIP_INDEX_URL,
PIP_EXTRA_INDEX_URL, PIP_TRUSTED_HOST, PIP_RETRIES (with --retries), and for uv, which
ignores pip.conf, UV_INDEX_URL and UV_EXTRA_INDEX_URL. PIP_* and UV_* index variables
already set are reported on stderr. With --lock FILE (checked: pins with --hash lines
only), a copy of FILE goes to that directory and CMD also gets PIP_REQUIRE_HASHES=true and
PIP_CONSTRAINT naming the copy (uv does not read them). Exit code: CMD's (128+N when a signal N killed it);
127 when CMD is not found; 2 for bad flags. See docs/cli.md.

${VARIABLES}`,
  positionals: { names: '-- CMD...', min: 1, max: Number.POSITIVE_INFINITY },
  normalize: (values, positionals) => ({ ...planFlags(values), positionals, mirror: values.mirror, lock: values.lock }),
});

export type ExecOptions = OptionsOf<typeof exec>;
