// `podman build` / `buildah build` of the user's Dockerfile with pip pointed at the mirror, leaving
// no file of it in the image: the same derived Dockerfile as for docker (dockerfile-mounts.ts), in
// which every RUN also gets
//   --mount=type=secret,id=dib-pypi-pip-conf,target=/etc/pip.conf,mode=0444   (the plan's pip.conf)
//   --mount=type=bind,from=localhost/dib-pypi-mirror:<hash>,target=/tmp/pypi   (the mirror, read-only)
// Neither reaches a layer. Unlike BuildKit, buildah (1.28, which podman 4.3 builds with) writes the
// RUN line with its --mount flags into the image history: the secret's id and target and the
// mirror image's tag are there, never the pip.conf, a URL or a credential.
// With a lock, a third secret: --mount=type=secret,id=dib-pypi-lock,target=/tmp/pypi-requirements.lock,mode=0444
// (lock-mount.ts), and pip.conf requires its hashes. Ctrl-C goes to the engine's RUN helper (oci-runtime-helpers.ts).
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { renderPipConf } from '../inject/render-pip-conf.js';
import { DibPypiError, UsageError } from '../errors.js';
import { LOCK_PATH } from '../inject/target-paths.js';
import type { EnvMap, Plan } from '../plan/types.js';
import { chooseNetwork } from './build-network.js';
import type { SplitBuildArgs } from './docker-build-args.js';
import { PIP_CONF_SECRET, runMounts } from './docker-builder.js';
import { addRunMounts, baseImagesOf } from './dockerfile-mounts.js';
import { pipEnvWarnings } from './image-pip-env.js';
import { lockRunMount, lockSecretArgs } from './lock-mount.js';
import { defaultMirror, MIRROR_MOUNT } from './mirror-location.js';
import { isolationOf } from './oci-build-flags.js';
import { checkEngine, imageEnv, type OciEngine, OciEngineUnavailableError, storageGraphRoot } from './oci-engine.js';
import { ensureOciMirrorImage } from './oci-mirror-image.js';
import { mountTargetsLeftBy } from './oci-mount-targets.js';
import { runtimeHelpersOf } from './oci-runtime-helpers.js';
import { readDockerfile } from './read-dockerfile.js';
import { runForwardingSignals } from './run-forwarding-signals.js';

export const OCI_WORK_PREFIX = 'dib-pypi-oci-build-';

export interface OciBuildOptions {
  engine: OciEngine;
  args: SplitBuildArgs;
  plan: Plan;
  /** Host directory of the mirror; undefined: none to mount. */
  mirror?: string;
  /** The text of a lock (readLock) to install against, mounted as a secret (lock-mount.ts); undefined: none. */
  lock?: string;
  env: EnvMap;
  cwd: string;
  /** The Dockerfile's text when -f - (read from stdin by the caller). */
  stdinDockerfile?: string;
  warn: (text: string) => void;
  progress: (text: string) => void;
}

/**
 * `--network` when the user gave none: as for docker (none for file:// indexes, host for one on the
 * loopback), except that chroot isolation has no network namespace to make: it always shares the host's.
 */
function networkArgs(options: OciBuildOptions): string[] {
  if (options.args.network !== undefined) return [];
  const choice = chooseNetwork(options.plan);
  for (const warning of choice.warnings) options.warn(warning);
  if (isolationOf(options.args.docker, options.env) === 'chroot') {
    if (choice.network === 'none')
      options.warn(
        `${options.engine.name} builds with chroot isolation share the host's network: no --network none, pip is held to the mirror by pip.conf alone`,
      );
    return [];
  }
  return ['--network', choice.network];
}

function warnAboutDockerfile(options: OciBuildOptions, text: string, runs: number, onbuildRuns: number): void {
  if (runs === 0) options.warn('the Dockerfile has no RUN instruction: pip is not used in this build');
  for (const image of baseImagesOf(text)) for (const warning of pipEnvWarnings(image, imageEnv(options.engine, image))) options.warn(warning);
  if (onbuildRuns > 0) options.warn(`${onbuildRuns} ONBUILD RUN instruction(s) left as they are: they run in other builds, without the mirror`);
}

/** Refuse a lock whose mount point the engine would leave in the image (oci-mount-targets.ts). */
function checkLockMountPoint(engine: OciEngine): void {
  const graphRoot = storageGraphRoot(engine);
  if (mountTargetsLeftBy(graphRoot, [LOCK_PATH]).length === 0) return;
  throw new DibPypiError(
    `${engine.name} build would leave the lock's mount point ${LOCK_PATH} in the image, as an empty file: buildah 1.28 (which podman 4.3 builds with) misses RUN mount targets in /tmp when its storage is under /tmp too (graphroot ${graphRoot}); put the storage elsewhere (graphroot in storage.conf, or $CONTAINERS_STORAGE_CONF)`,
  );
}

/** Build; resolves with the engine's exit code (a failed RUN's own code). Our temp files go on success, failure and Ctrl-C. */
export async function ociBuild(options: OciBuildOptions): Promise<number> {
  const { args, plan, env, engine } = options;
  const context = resolve(options.cwd, args.context);
  if (!existsSync(context) || !statSync(context).isDirectory())
    throw new UsageError(`the build context is not a directory: ${JSON.stringify(args.context)}`, `dib-pypi ${engine.name} build`);
  const dockerfile = readDockerfile(args, options.cwd, options.stdinDockerfile, true);
  checkEngine(engine);
  if (options.lock !== undefined) checkLockMountPoint(engine);

  const work = mkdtempSync(join(tmpdir(), OCI_WORK_PREFIX));
  try {
    let mirrorImage: string | undefined;
    if (options.mirror !== undefined) mirrorImage = await ensureOciMirrorImage(engine, options.mirror, work, options.progress);
    else if (plan.indexUrl.url.startsWith(`file://${MIRROR_MOUNT}`))
      options.warn(`no mirror to mount (no --mirror, and ${defaultMirror(env)} does not exist): ${plan.indexUrl.url} will be empty in the build`);
    const mounts = runMounts(mirrorImage);
    if (options.lock !== undefined) mounts.push(lockRunMount());
    const rewritten = addRunMounts(dockerfile.text, mounts);
    warnAboutDockerfile(options, dockerfile.text, rewritten.runs, rewritten.onbuildRuns);

    const derived = join(work, dockerfile.path !== undefined ? basename(dockerfile.path) : 'Dockerfile');
    writeFileSync(derived, rewritten.text, { mode: 0o600 });
    const pipConf = join(work, 'pip.conf');
    writeFileSync(pipConf, renderPipConf(plan, { forContainer: true, lock: options.lock === undefined ? undefined : LOCK_PATH }), { mode: 0o600 });
    const lockSecret = options.lock === undefined ? [] : lockSecretArgs(work, options.lock);
    const network = networkArgs(options);
    const argv = ['build', ...args.docker, ...network, '--secret', `id=${PIP_CONF_SECRET},src=${pipConf}`, ...lockSecret, '-f', derived, context];
    options.progress(
      `${engine.name} build${network.length > 0 ? ` (network ${network[1]})` : ''}, pip configured by a secret mount${mirrorImage !== undefined ? `, mirror mounted from ${mirrorImage}` : ''}${options.lock !== undefined ? `, the lock at ${LOCK_PATH} (pip requires its hashes)` : ''}`,
    );
    // Its own process group, so that a terminal's Ctrl-C reaches only us: podman must not see it (oci-runtime-helpers.ts).
    return await runForwardingSignals(
      engine.binary,
      argv,
      { stdio: [args.file === '-' ? 'ignore' : 'inherit', 'inherit', 'inherit'], env: env as NodeJS.ProcessEnv, detached: true },
      engine.name === 'podman' ? (pid) => runtimeHelpersOf(pid) : undefined,
    );
  } catch (error) {
    if (error instanceof DibPypiError) throw error;
    throw new OciEngineUnavailableError(`${engine.name} build failed to start: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      cause: error,
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
