// `dib-pypi docker build ... CONTEXT`: its help and options (run by ../docker-build-command.ts; it parses its own flags).
import { defineCommand, type OptionsOf } from './declare.js';
import { VARIABLES } from './shared-options.js';

export const dockerBuild = defineCommand({
  name: 'docker build',
  summary: 'docker build with pip pointed at the mirror through BuildKit mounts: offline, and nothing of it in the image',
  usage: 'dib-pypi docker build [--mirror DIR] [options] [docker build flags] CONTEXT',
  options: {},
  rawArgs: true,
  // Our flags are picked out of docker's by src/targets/docker-build-args.ts, not by parseArgs.
  arguments: `  CONTEXT            the build context: a local directory
  --mirror DIR       the mirror to mount at /tmp/pypi in every RUN (default:
                     $DIB_IMAGE_CACHE/pypi/mirror when it exists, as the DIB element)
  --mirror-url URL   index URL (repeatable): the first is index-url, the rest
                     extra-index-url; replaces DIB_PYPI_MIRROR_URL[_N]
  --offline          do not add the public index (as DIB_OFFLINE)
  --no-pypi          do not add the public index (as DIB_NO_PYPI_PIP)
  --lock FILE        install exactly what this lock pins (requirements.lock of
                     mirror add): it is mounted at /tmp/pypi-requirements.lock
                     in every RUN, and pip runs in hash-checking mode against it
                     (RUN pip install -r /tmp/pypi-requirements.lock)
  --retries N        pip retries (as DIB_PIP_RETRIES)
  --env-file PATH    read variables from PATH (default: ./.env when present)
  Every other flag is docker build's and passes through unchanged: -t, -f,
  --build-arg, --target, --no-cache, --pull, --progress, --network, ...`,
  notes: `The Dockerfile (-f FILE, default CONTEXT/Dockerfile; -f - reads it from stdin) is not
changed: a copy in a temp directory, in which every RUN also mounts the plan's pip.conf at
/etc/pip.conf (a BuildKit secret) and the mirror (imported once per change as the local
image dib-pypi-mirror:<hash>) read-only at /tmp/pypi, is built. Neither is in any layer,
in docker history or in the image config; the empty /tmp/pypi mount point directory
stays (BuildKit leaves it). pip runs with no-cache-dir, so no index page is cached.

With --lock FILE, FILE (checked: pins with --hash lines only) is a third secret, at
/tmp/pypi-requirements.lock in every RUN, and pip.conf adds require-hashes = true and
constraint = /tmp/pypi-requirements.lock: a requirement without a pin and a hash, a version
the lock does not pin, or a file whose sha256 is not the lock's fails the install with pip's
own message. Install it with pip install -r /tmp/pypi-requirements.lock; sdists need
--no-build-isolation (pip's build-dependency install carries no hashes).

Network: without --network, none when every index is a file:// URL, host when an index is
on the loopback (http://127.0.0.1:PORT/...). Needs BuildKit: docker 20.10-22.x with
DOCKER_BUILDKIT=1 (set by dib-pypi) or docker 23+ with buildx; DIB_PYPI_DOCKER names the
docker CLI to run (default: docker). No # syntax= frontend can be pulled offline.
Exit code: docker build's (1 when a RUN fails); 2 for bad flags.

${VARIABLES}`,
  inputs: { mirror: '--mirror', lock: '--lock' },
  normalize: (_values, args) => ({ rawArgs: args }),
});

export type DockerBuildOptions = OptionsOf<typeof dockerBuild>;
