// `dib-pypi configure --root DIR`: its flags, help and options (run by ../configure-command.ts).
import { defineCommand, type OptionsOf } from './declare.js';
import { HOME_OPTION, JSON_OPTION, PLAN_OPTIONS, planFlags, ROOT_OPTIONS, VARIABLES } from './shared-options.js';

export const configure = defineCommand({
  name: 'configure',
  summary: 'point pip inside a root filesystem at the plan (journaled; undo with restore)',
  usage: 'dib-pypi configure --root DIR [--home /root] [options]',
  options: {
    ...ROOT_OPTIONS,
    ...HOME_OPTION,
    mirror: {
      type: 'string',
      help: `  --mirror DIR       also bind-mount this host directory read-only at DIR/tmp/pypi
                     (restore unmounts it); needs root`,
    },
    ...PLAN_OPTIONS,
    ...JSON_OPTION,
  },
  notes: `Writes /etc/pip.conf and <home>/.pydistutils.cfg, and replaces <home>/.pip/pip.conf,
<home>/.config/pip/pip.conf and /etc/xdg/pip/pip.conf where they exist. The originals
are kept in a journal on the host (--state-dir), never inside the root.

${VARIABLES}`,
  normalize: (values) => ({
    ...planFlags(values),
    root: values.root,
    stateDir: values['state-dir'],
    home: values.home,
    mirror: values.mirror,
    json: values.json,
  }),
});

export type ConfigureOptions = OptionsOf<typeof configure>;
