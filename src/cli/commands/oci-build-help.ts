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
there (add --omit-history to keep no history). The empty /tmp/pypi mount point stays.

Network: without --network, none when every index is a file:// URL, host when an index is
on the loopback; with --isolation chroot (or BUILDAH_ISOLATION=chroot) the build always
shares the host's network. Images are in containers-storage (storage.conf, or
$CONTAINERS_STORAGE_CONF). ${variable} names the ${engine} to run (default: ${engine}).
Exit code: ${engine} build's (a failed RUN's own code); 2 for bad flags.

${VARIABLES}`;
}
