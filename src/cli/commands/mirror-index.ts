// `dib-pypi mirror index DIR`: its flags, help and options (run by ../mirror-index-command.ts).
import { defineCommand, type OptionsOf } from './declare.js';
import { JSON_OPTION, PROGRESS_NOTES, PROGRESS_OPTIONS, progressFlags } from './shared-options.js';

export const mirrorIndex = defineCommand({
  name: 'mirror index',
  summary: 'write the PEP 503 + 691 index (with PEP 658 metadata files) of a mirror directory',
  usage: 'dib-pypi mirror index DIR [--full] [--json]',
  options: {
    full: {
      type: 'boolean',
      help: `  --full             re-list, re-stat and re-hash everything instead of trusting
                     the manifest (.dib-pypi/manifest.json) and directory mtimes`,
    },
    ...JSON_OPTION,
    ...PROGRESS_OPTIONS,
  },
  notes: `DIR holds distribution files (wheels, sdists), at the top level or in <project>/
directories. The index is written beside them: index.html + index.json at the top and in
each <project>/, and <wheel>.metadata (PEP 658) beside every wheel; see docs/mirror-layout.md.
A later run redoes only what changed. A file named <file>.yanked marks <file> yanked (its
text is the reason). Broken files are reported and skipped: exit 1 after indexing the rest.

${PROGRESS_NOTES}`,
  positionals: { names: 'DIR', min: 1, max: 1 },
  normalize: (values, positionals) => ({ ...progressFlags(values), positionals, full: values.full, json: values.json }),
});

export type MirrorIndexOptions = OptionsOf<typeof mirrorIndex>;
