// The help shared by `dib-pypi podman build` and `dib-pypi buildah build`: one text, the engine's name filled in.
import { VARIABLES } from './shared-options.js';

export type OciEngineWord = 'podman' | 'buildah';

export function ociBuildSummary(engine: OciEngineWord): string {
  return `${engine} build (daemonless) with pip pointed at the mirror through RUN mounts: offline, and no file of it in the image`;
}

export function ociBuildArguments(engine: OciEngineWord): string {
  return `  CONTEXT            the build context: a local directory
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
  Every other flag is ${engine} build's and passes through unchanged: -t, -f,
  --build-arg, --target, --no-cache, --layers=false, --isolation, --network, ...`;
}

export function ociBuildNotes(engine: OciEngineWord): string {
  const variable = engine === 'podman' ? 'DIB_PYPI_PODMAN' : 'DIB_PYPI_BUILDAH';
  return `The Dockerfile (-f FILE, default CONTEXT/Containerfile or CONTEXT/Dockerfile; -f - reads it
from stdin) is not changed: a copy in a temp directory, in which every RUN also mounts the
plan's pip.conf at /etc/pip.conf (a --secret) and the mirror (imported once per change as the
local image localhost/dib-pypi-mirror:<hash>) read-only at /tmp/pypi, is built. Neither is
in any layer or in the image config, and no index URL or credential is anywhere in the image.
Unlike docker's BuildKit, buildah (1.28; podman builds with it) keeps each RUN's --mount
flags in the image history: the secret's id and target and the mirror image's tag show
there (add --omit-history to keep no history).

With --lock FILE, FILE (checked: pins with --hash lines only) is a third secret, at
/tmp/pypi-requirements.lock in every RUN, and pip.conf adds require-hashes = true and
constraint = /tmp/pypi-requirements.lock: a requirement without a pin and a hash, a version
the lock does not pin, or a file whose sha256 is not the lock's fails the install with pip's
own message. Install it with pip install -r /tmp/pypi-requirements.lock; sdists need
--no-build-isolation. The lock is in no layer, and in the config only as its mount flag in
the history. buildah 1.28 fails to remove RUN mount points in /tmp when its storage
(graphroot) is under /tmp too (the empty /tmp/pypi then stays): dib-pypi refuses --lock
there (exit 1), as the lock's empty mount point would stay in the image.

Ctrl-C (SIGINT, SIGTERM, SIGHUP) cancels the build: dib-pypi hands it to the engine's RUN
helper, which kills the RUN; the engine then removes its working containers as after a
failed RUN and exits 1. The engine runs in a process group of its own, so that a terminal's
Ctrl-C reaches dib-pypi only: podman, given the signal itself, exits at once and leaves the
RUN running and its working container behind.

Network: without --network, none when every index is a file:// URL, host when an index is
on the loopback; with --isolation chroot (or BUILDAH_ISOLATION=chroot) the build always
shares the host's network. Images are in containers-storage (storage.conf, or
$CONTAINERS_STORAGE_CONF). ${variable} names the ${engine} to run (default: ${engine}).
Exit code: ${engine} build's (a failed RUN's own code); 2 for bad flags.

${VARIABLES}`;
}
