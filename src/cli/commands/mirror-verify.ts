// `dib-pypi mirror verify DIR`: its flags, help and options (run by ../mirror-verify-command.ts).
import { defineCommand, type OptionsOf } from './declare.js';
import { PROGRESS_NOTES, PROGRESS_OPTIONS, progressFlags } from './shared-options.js';

export const mirrorVerify = defineCommand({
  name: 'mirror verify',
  summary: 're-hash every file of a mirror against its index; report corrupted, missing, unindexed files and stale pages',
  usage: 'dib-pypi mirror verify DIR [--repair] [--json]',
  options: {
    repair: {
      type: 'boolean',
      help: `  --repair           move corrupted files to DIR/.dib-pypi/quarantine/ (never
                     re-hash them into the index), then re-index everything`,
    },
    json: { type: 'boolean', help: '  --json             print the findings as JSON' },
    ...PROGRESS_OPTIONS,
  },
  notes: `Exit 0 when everything matches, 1 when anything is wrong (each finding names its path).

${PROGRESS_NOTES}`,
  positionals: { names: 'DIR', min: 1, max: 1 },
  normalize: (values, positionals) => ({ ...progressFlags(values), positionals, repair: values.repair, json: values.json }),
});

export type MirrorVerifyOptions = OptionsOf<typeof mirrorVerify>;
