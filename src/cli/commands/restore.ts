// `dib-pypi restore --root DIR`: its flags, help and options (run by ../restore-command.ts).
import { defineCommand, type OptionsOf } from './declare.js';
import { JSON_OPTION, ROOT_OPTIONS } from './shared-options.js';

export const restore = defineCommand({
  name: 'restore',
  summary: 'give a root back every file configure changed, byte for byte (a no-op when there is nothing to restore)',
  usage: 'dib-pypi restore --root DIR [options]',
  options: {
    ...ROOT_OPTIONS,
    'kill-processes': {
      type: 'boolean',
      help: `  --kill-processes   first stop (SIGTERM, then SIGKILL) processes still running
                     inside the root, e.g. after dib-pypi chroot was killed`,
    },
    ...JSON_OPTION,
  },
  notes: `Also finishes the job after configure or restore was killed at any point. A journal is obeyed
only from a state directory that no one but root or the invoking user can write, and only when
it names nothing configure could not have written. Processes found inside the root are reported;
if one holds a mount restore must undo, nothing is changed unless --kill-processes is given.`,
  // The home configure was given, as its journal keeps it.
  inputs: { home: '--home' },
  normalize: (values) => ({ root: values.root, stateDir: values['state-dir'], killProcesses: values['kill-processes'], json: values.json }),
});

export type RestoreOptions = OptionsOf<typeof restore>;
