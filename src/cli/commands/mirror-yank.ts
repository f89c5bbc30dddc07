// `dib-pypi mirror yank|unyank DIR PROJECT==VERSION`: their flags, help and options (run by ../mirror-yank-command.ts).
import { defineCommand, type OptionsOf } from './declare.js';
import { JSON_OPTION } from './shared-options.js';
import { parseProjectSpec } from './project-spec.js';

const YANK_NOTES = `PEP 592: each file of the version gets (or loses) a <file>.yanked sidecar, whose text
is the reason, and the mirror is re-indexed: its pages mark the files yanked (data-yanked in
HTML, "yanked" in JSON). pip then skips the version unless a requirement pins it with ==
(and warns when it installs it). Exit 1 when the mirror has no file of that version.`;

export const mirrorYank = defineCommand({
  name: 'mirror yank',
  summary: 'mark every file of one version yanked (PEP 592), with an optional reason',
  usage: 'dib-pypi mirror yank DIR PROJECT==VERSION [--reason TEXT] [--json]',
  options: {
    reason: { type: 'string', help: '  --reason TEXT      why (one line, at most 1000 characters): pip shows it' },
    ...JSON_OPTION,
  },
  notes: YANK_NOTES,
  positionals: { names: 'DIR PROJECT==VERSION', min: 2, max: 2 },
  normalize: (values, positionals) => ({
    dir: positionals[0] as string,
    ...(parseProjectSpec(positionals[1] as string, true) as { project: string; version: string }),
    reason: values.reason ?? '',
    json: values.json === true,
  }),
});

export const mirrorUnyank = defineCommand({
  name: 'mirror unyank',
  summary: 'take back the yank of one version (remove its .yanked sidecars)',
  usage: 'dib-pypi mirror unyank DIR PROJECT==VERSION [--json]',
  options: { ...JSON_OPTION },
  notes: YANK_NOTES,
  positionals: { names: 'DIR PROJECT==VERSION', min: 2, max: 2 },
  normalize: (values, positionals) => ({
    dir: positionals[0] as string,
    ...(parseProjectSpec(positionals[1] as string, true) as { project: string; version: string }),
    reason: null,
    json: values.json === true,
  }),
});

export type MirrorYankOptions = OptionsOf<typeof mirrorYank> | OptionsOf<typeof mirrorUnyank>;
