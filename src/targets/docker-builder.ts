// `docker build` of the user's Dockerfile with pip pointed at the mirror, leaving no trace in the image.
//
// Mechanism (BuildKit, built-in Dockerfile syntax): a derived copy of the Dockerfile, outside the
// context, in which every RUN also gets
//   --mount=type=secret,id=dib-pypi-pip-conf,target=/etc/pip.conf,mode=0444   (the plan's pip.conf)
//   --mount=type=bind,from=dib-pypi-mirror:<hash>,target=/tmp/pypi             (the mirror, read-only)
// Secrets and mounts exist only while the RUN runs: they are in no layer, and `docker history`
// shows the RUN without its mount flags. The user's Dockerfile is never written to.
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type Docker from 'dockerode';
import { renderPipConf } from '../inject/render-pip-conf.js';
import { DibPypiError, UsageError } from '../errors.js';
import type { EnvMap, Plan } from '../plan/types.js';
import { chooseNetwork } from './build-network.js';
import { checkBuildKit, dockerBinary, runDockerInherit } from './docker-cli.js';
import { addRunMounts, baseImagesOf } from './dockerfile-mounts.js';
import { pipEnvWarnings } from './image-pip-env.js';
import { readDockerfile } from './read-dockerfile.js';
import { LOCK_PATH } from '../inject/target-paths.js';
import { lockRunMount, lockSecretArgs } from './lock-mount.js';
import { defaultMirror, MIRROR_MOUNT } from './mirror-location.js';
import { ensureMirrorImage } from './mirror-image.js';
import type { SplitBuildArgs } from './docker-build-args.js';

export const PIP_CONF_SECRET = 'dib-pypi-pip-conf';
/** pip reads /etc/pip.conf for every user; mode 0444 so that a `USER app` stage can read it too. */
export const PIP_CONF_TARGET = '/etc/pip.conf';

export interface BuildOptions {
  /** The Engine API, for what is no build: the mirror's image, the base images' configs. */
  engine: Docker;
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

/** The mounts every RUN gets. */
export function runMounts(mirrorImage: string | undefined): string[] {
  const mounts = [`--mount=type=secret,id=${PIP_CONF_SECRET},target=${PIP_CONF_TARGET},mode=0444`];
  if (mirrorImage !== undefined) mounts.push(`--mount=type=bind,from=${mirrorImage},target=${MIRROR_MOUNT}`);
  return mounts;
}

/** The base image's ENV; none when it is not here (yet): BuildKit reports what it cannot find. */
async function imageEnv(engine: Docker, image: string): Promise<string[]> {
  try {
    return (await engine.getImage(image).inspect()).Config.Env ?? [];
  } catch {
    return [];
  }
}

/** Build; resolves with docker's exit code. Our temp files go on success, failure and Ctrl-C. */
export async function dockerBuild(options: BuildOptions): Promise<number> {
  const { args, plan, env } = options;
  const context = resolve(options.cwd, args.context);
  if (!existsSync(context) || !statSync(context).isDirectory())
    throw new UsageError(`the build context is not a directory: ${JSON.stringify(args.context)}`, 'dib-pypi docker build');
  const dockerfile = readDockerfile(args, options.cwd, options.stdinDockerfile);
  const docker = dockerBinary(env);
  checkBuildKit(docker, env);

  let mirrorImage: string | undefined;
  if (options.mirror !== undefined) mirrorImage = await ensureMirrorImage(options.engine, options.mirror, options.progress);
  else if (plan.indexUrl.url.startsWith(`file://${MIRROR_MOUNT}`)) {
    options.warn(`no mirror to mount (no --mirror, and ${defaultMirror(env)} does not exist): ${plan.indexUrl.url} will be empty in the build`);
  }
  const mounts = runMounts(mirrorImage);
  if (options.lock !== undefined) mounts.push(lockRunMount());
  const rewritten = addRunMounts(dockerfile.text, mounts);
  if (rewritten.syntax !== undefined)
    options.warn(
      `the Dockerfile asks for the frontend ${rewritten.syntax} (# syntax=): BuildKit pulls it, which fails offline; without the line the built-in frontend is used`,
    );
  if (rewritten.runs === 0) options.warn('the Dockerfile has no RUN instruction: pip is not used in this build');
  for (const image of baseImagesOf(dockerfile.text)) {
    for (const warning of pipEnvWarnings(image, await imageEnv(options.engine, image))) options.warn(warning);
  }
  if (rewritten.onbuildRuns > 0)
    options.warn(`${rewritten.onbuildRuns} ONBUILD RUN instruction(s) left as they are: they run in other builds, without the mirror`);

  const work = mkdtempSync(join(tmpdir(), 'dib-pypi-build-'));
  try {
    const name = dockerfile.path !== undefined ? basename(dockerfile.path) : 'Dockerfile';
    const derived = join(work, name);
    writeFileSync(derived, rewritten.text, { mode: 0o600 });
    // docker 23+ reads <Dockerfile>.dockerignore beside the Dockerfile before the context's .dockerignore.
    if (dockerfile.path !== undefined && existsSync(`${dockerfile.path}.dockerignore`))
      copyFileSync(`${dockerfile.path}.dockerignore`, `${derived}.dockerignore`);
    const pipConf = join(work, 'pip.conf');
    writeFileSync(pipConf, renderPipConf(plan, { forContainer: true, lock: options.lock === undefined ? undefined : LOCK_PATH }), { mode: 0o600 });
    const lockSecret = options.lock === undefined ? [] : lockSecretArgs(work, options.lock);

    const network: string[] = [];
    if (args.network === undefined) {
      const choice = chooseNetwork(plan);
      for (const warning of choice.warnings) options.warn(warning);
      network.push('--network', choice.network);
    }
    const argv = ['build', ...args.docker, ...network, '--secret', `id=${PIP_CONF_SECRET},src=${pipConf}`, ...lockSecret, '-f', derived, context];
    options.progress(
      `docker build${network.length > 0 ? ` (network ${network[1]})` : ''}, pip configured by a secret mount${mirrorImage !== undefined ? `, mirror mounted from ${mirrorImage}` : ''}${options.lock !== undefined ? `, the lock at ${LOCK_PATH} (pip requires its hashes)` : ''}`,
    );
    return await runDockerInherit(docker, argv, env, args.file === '-' ? 'ignore' : 'inherit');
  } catch (error) {
    if (error instanceof DibPypiError) throw error;
    throw new DibPypiError(`docker build failed to start: ${(error as Error).message}`, { cause: error });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
