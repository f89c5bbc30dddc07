// `dib-pypi env`: its flags, help and options (run by ../env-command.ts).
import { defineCommand, type OptionsOf } from './declare.js';
import { PLAN_OPTIONS, planFlags, VARIABLES } from './shared-options.js';

export const env = defineCommand({
  name: 'env',
  summary: 'print the variables that point pip and uv at the plan, for eval in a shell or a CI environment file',
  usage: 'dib-pypi env [--format sh|fish|github|dotenv] [--mirror DIR] [options]',
  options: {
    format: {
      type: 'string',
      help: `  --format FORMAT    sh (default; eval "$(dib-pypi env)"), fish (... | source),
                     github (append to $GITHUB_ENV) or dotenv (a .env file)`,
    },
    mirror: { type: 'string', help: '  --mirror DIR       the index is file://DIR (implies --offline)' },
    ...PLAN_OPTIONS,
  },
  notes: `Prints PIP_CONFIG_FILE=/dev/null (pip reads no config file at all), PIP_INDEX_URL,
PIP_EXTRA_INDEX_URL, PIP_TRUSTED_HOST, PIP_RETRIES (with --retries), UV_INDEX_URL and
UV_EXTRA_INDEX_URL. Values are printed as they are, credentials included (the job needs them):
a warning on stderr says so. See docs/cli.md.

${VARIABLES}`,
  normalize: (values) => ({ ...planFlags(values), format: values.format, mirror: values.mirror }),
});

export type EnvOptions = OptionsOf<typeof env>;
