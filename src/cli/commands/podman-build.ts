// `dib-pypi podman build ... CONTEXT`: its help and options (run by ../podman-build-command.ts; it parses its own flags).
import { defineCommand, type OptionsOf } from './declare.js';
import { ociBuildArguments, ociBuildNotes, ociBuildSummary } from './oci-build-help.js';

export const podmanBuild = defineCommand({
  name: 'podman build',
  summary: ociBuildSummary('podman'),
  usage: 'dib-pypi podman build [--mirror DIR] [--lock FILE] [options] [podman build flags] CONTEXT',
  options: {},
  rawArgs: true,
  // Our flags are picked out of podman's by src/targets/docker-build-args.ts, not by parseArgs.
  arguments: ociBuildArguments('podman'),
  notes: ociBuildNotes('podman'),
  inputs: { mirror: '--mirror', lock: '--lock' },
  normalize: (_values, args) => ({ rawArgs: args }),
});

export type PodmanBuildOptions = OptionsOf<typeof podmanBuild>;
