// `dib-pypi buildah build ... CONTEXT`: its help and options (run by ../buildah-build-command.ts; it parses its own flags).
import { defineCommand, type OptionsOf } from './declare.js';
import { ociBuildArguments, ociBuildNotes, ociBuildSummary } from './oci-build-help.js';

export const buildahBuild = defineCommand({
  name: 'buildah build',
  summary: ociBuildSummary('buildah'),
  usage: 'dib-pypi buildah build [--mirror DIR] [--lock FILE] [options] [buildah build flags] CONTEXT',
  options: {},
  rawArgs: true,
  // Our flags are picked out of buildah's by src/targets/docker-build-args.ts, not by parseArgs.
  arguments: ociBuildArguments('buildah'),
  notes: ociBuildNotes('buildah'),
  inputs: { mirror: '--mirror', lock: '--lock' },
  normalize: (_values, args) => ({ rawArgs: args }),
});

export type BuildahBuildOptions = OptionsOf<typeof buildahBuild>;
