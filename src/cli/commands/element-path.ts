// `dib-pypi element-path`: its flags, help and options (run by ../element-path-command.ts).
import { defineCommand, type OptionsOf } from './declare.js';

export const elementPath = defineCommand({
  name: 'element-path',
  summary: 'print the directory holding the installed DIB pypi element, for ELEMENTS_PATH',
  usage: 'dib-pypi element-path [--json]',
  options: { json: { type: 'boolean', help: '  --json             print {"elementsPath": DIR, "element": DIR/pypi}' } },
  notes: `Put the directory first on ELEMENTS_PATH so that this pypi element wins over
diskimage-builder's own:
  export ELEMENTS_PATH="$(dib-pypi element-path)\${ELEMENTS_PATH:+:$ELEMENTS_PATH}"
  disk-image-create -o image debian-minimal pypi my-element
The element runs the dib-pypi of the same installation (unless DIB_PYPI_BIN names
another), so it need not be on the PATH that sudo keeps.`,
  normalize: (values) => ({ json: values.json }),
});

export type ElementPathOptions = OptionsOf<typeof elementPath>;
