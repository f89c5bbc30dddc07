// `dib-pypi mirror remove DIR PROJECT[==VERSION] [FILE]`: its flags, help and options (run by ../mirror-remove-command.ts).
import { defineCommand, type OptionsOf } from './declare.js';
import { JSON_OPTION } from './shared-options.js';
import { parseProjectSpec } from './project-spec.js';

export const mirrorRemove = defineCommand({
  name: 'mirror remove',
  summary: 'remove a project, one version or one file from a mirror (and keep the pull-through cache from fetching it back)',
  usage: 'dib-pypi mirror remove DIR PROJECT[==VERSION] [FILE] [--forget] [--json]',
  arguments: `  DIR                the mirror
  PROJECT[==VERSION] a project, or one version of it (PEP 440: ==1.0 also matches 1.0.0)
  FILE               one distribution file of that project (and version): a bare file name`,
  options: {
    forget: {
      type: 'boolean',
      help: `  --forget           remove nothing: forget an earlier removal of PROJECT, PROJECT==VERSION
                     or FILE, so that serve --upstream may fetch it again`,
    },
    ...JSON_OPTION,
  },
  notes: `The files go with their sidecars (.yanked, .upload-time) and .metadata. All or nothing:
a journal in DIR/.dib-pypi/removing/ lists them first, the re-index (which re-reads only
the changed project) drops them from the pages, then they are deleted. A run that is
killed is finished by the next mirror index, remove, yank or unyank of the mirror; until
then no page links a missing file.

The removal is recorded in DIR/.dib-pypi/removed/<project>.json: dib-pypi serve --upstream
never fetches a removed file (or any file of a removed version or project) back, nor lists it.

Exit 1 when the mirror has no such project, version or file; 2 when FILE is not a
distribution file name of PROJECT (and VERSION), or has a path in it.`,
  positionals: { names: 'DIR PROJECT[==VERSION] [FILE]', min: 2, max: 3 },
  normalize: (values, positionals) => ({
    dir: positionals[0] as string,
    ...parseProjectSpec(positionals[1] as string, false),
    file: positionals[2],
    forget: values.forget === true,
    json: values.json === true,
  }),
});

export type MirrorRemoveOptions = OptionsOf<typeof mirrorRemove>;
