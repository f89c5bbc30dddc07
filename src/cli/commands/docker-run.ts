// `dib-pypi docker run IMAGE -- CMD...`: its flags, help and options (run by ../docker-run-command.ts).
import { defineCommand, type OptionsOf } from './declare.js';
import { JSON_OPTION, PLAN_OPTIONS, planFlags, VARIABLES } from './shared-options.js';

export const dockerRun = defineCommand({
  name: 'docker run',
  summary: 'run a command in a container with the mirror and pip.conf mounted (network none); optionally commit it, without them',
  usage: 'dib-pypi docker run IMAGE [--mirror DIR] [--commit TAG] [options] -- CMD...',
  arguments: '  IMAGE              the image to run CMD in (local; nothing is pulled)',
  options: {
    mirror: {
      type: 'string',
      help: `  --mirror DIR       host directory mounted read-only at /tmp/pypi (default:
                     $DIB_IMAGE_CACHE/pypi/mirror when it exists)`,
    },
    commit: {
      type: 'string',
      help: `  --commit TAG       when CMD succeeds, commit the container as TAG: its files,
                     with the image's own config (Cmd, Env, ...) and without the
                     mounts or the mount points they needed`,
    },
    network: {
      type: 'string',
      help: `  --network NAME     the container's network (default: none, or host when an
                     index is on the loopback)`,
    },
    ...PLAN_OPTIONS,
    ...JSON_OPTION,
  },
  notes: `Talks to the Docker engine (DOCKER_HOST, default /var/run/docker.sock) through its API.
pip.conf (the plan's, no-cache-dir) is a read-only bind mount at /etc/pip.conf, never a
file written into the container. CMD's output streams; its exit code is ours. The
container is removed afterwards, also on failure and Ctrl-C / SIGTERM. With --json, CMD's
standard output goes to stderr and stdout carries one JSON object: command, image,
exitCode, container, network, mounts, committed and imageId (with --commit), removed.

${VARIABLES}`,
  inputs: { image: 'IMAGE' },
  positionals: { names: 'IMAGE -- CMD...', min: 2, max: Number.POSITIVE_INFINITY },
  normalize: (values, positionals) => ({
    ...planFlags(values),
    positionals,
    mirror: values.mirror,
    commit: values.commit,
    network: values.network,
    json: values.json,
  }),
});

export type DockerRunOptions = OptionsOf<typeof dockerRun>;
