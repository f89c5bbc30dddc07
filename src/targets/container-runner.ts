// A container step through the Engine API (dockerode): the mirror and pip.conf mounted read-only,
// CMD's output streamed and its exit code returned, optionally committed without any trace of
// either; the container is removed whatever happens.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { DibPypiError, InputError } from '../errors.js';
import { renderPipConf } from '../inject/render-pip-conf.js';
import type { Plan } from '../plan/types.js';
import { chooseNetwork } from './build-network.js';
import { pipEnvWarnings } from './image-pip-env.js';
import { PIP_CONF_TARGET } from './docker-builder.js';
import { MIRROR_MOUNT } from './mirror-location.js';
import { findMountStubs, recordParentMtimes, removeMountStubs, writableLayerDir, type MountStub } from './mount-stubs.js';

export interface RunOptions {
  docker: Docker;
  image: string;
  command: string[];
  plan: Plan;
  mirror?: string;
  /** `name[:tag]` to commit the container to when CMD succeeds. */
  commit?: string;
  network?: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  warn: (text: string) => void;
  progress: (text: string) => void;
}

export interface RunResult {
  exitCode: number;
  /** The committed image's id. */
  imageId?: string;
}

/** What a container step did, for `docker run --json`. */
export interface RunReport extends RunResult {
  command: string[];
  image: string;
  /** The container's id (removed afterwards, in every case). */
  container?: string;
  network: string;
  /** Read-only bind mounts: pip.conf (from a temp file) and the mirror. */
  mounts: { target: string; source?: string; readOnly: true }[];
  /** `--commit`'s reference, when CMD succeeded and the image was committed. */
  committed?: string;
  removed: boolean;
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
const STOP_GRACE_MS = 3000;

/** `repo[:tag]`: the tag is after the last colon that follows the last slash (a registry may have a port). */
export function splitImageRef(ref: string): { repo: string; tag: string } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref, tag: 'latest' };
}

/** Paths `docker diff` lists (the API answers `null`, which dockerode hands over as a Buffer, when nothing changed). */
async function changedPaths(container: Docker.Container): Promise<string[]> {
  const changes: unknown = await container.changes();
  return Array.isArray(changes) ? changes.map((c: { Path: string }) => c.Path) : [];
}

/** A docker image reference we can commit to: [host[:port]/]name[/name...][:tag], lower-case names. */
export function checkCommitRef(ref: string): void {
  const name = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
  const pattern = new RegExp(`^(?:[a-zA-Z0-9.-]+(?::\\d+)?/)?${name}(?:/${name})*(?::[\\w][\\w.-]{0,127})?$`);
  if (!pattern.test(ref)) throw new InputError('commit', `not an image reference to commit to: ${JSON.stringify(ref)} (e.g. myimage:step1)`);
}

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

/**
 * Which of these paths exist in the image: asked of a container of the image with no mounts,
 * never started (HEAD /containers/ID/archive on the step's own container would mount its binds,
 * and so create the very mount points we look for).
 */
async function pathsInImage(docker: Docker, imageId: string): Promise<{ exists: (path: string) => Promise<boolean>; done: () => Promise<void> }> {
  const probe = await docker.createContainer({ Image: imageId, Cmd: ['true'], HostConfig: { NetworkMode: 'none' } });
  return {
    exists: async (path) => {
      try {
        const response = (await probe.infoArchive({ path })) as { resume?: () => void };
        response.resume?.();
        return true;
      } catch (error) {
        if (statusOf(error) === 404) return false;
        throw error;
      }
    },
    done: () => probe.remove({ force: true, v: true }).catch(() => {}),
  };
}

async function inspectImage(docker: Docker, image: string): Promise<Docker.ImageInspectInfo> {
  try {
    return await docker.getImage(image).inspect();
  } catch (error) {
    if (statusOf(error) === 404) throw new InputError('image', `no such image here: ${image} (dib-pypi docker run never pulls)`);
    throw new DibPypiError(`cannot reach the Docker engine: ${(error as Error).message}`, { cause: error });
  }
}

/** Signals seen while we run: the first one stops the container (and we clean up), as Ctrl-C should. */
interface SignalState {
  signal?: NodeJS.Signals;
  container?: Docker.Container;
}

/** Forward the signal; PID 1 in a container ignores signals it has no handler for, so SIGKILL follows after a grace period. */
function stopContainer(container: Docker.Container | undefined, signal: NodeJS.Signals): void {
  if (container === undefined) return;
  container.kill({ signal }).catch(() => {});
  setTimeout(() => container.kill({ signal: 'SIGKILL' }).catch(() => {}), STOP_GRACE_MS).unref();
}

function watchSignals(state: SignalState): () => void {
  const stop = (signal: NodeJS.Signals) => {
    state.signal ??= signal;
    stopContainer(state.container, signal);
  };
  for (const signal of SIGNALS) process.on(signal, stop);
  return () => {
    for (const signal of SIGNALS) process.off(signal, stop);
  };
}

/** Start, stream, wait; resolves with CMD's exit code (128+n when we were told to stop by signal n). */
async function runAttached(container: Docker.Container, docker: Docker, options: RunOptions, state: SignalState): Promise<number> {
  const stream = await container.attach({ stream: true, stdout: true, stderr: true });
  const ended = new Promise<void>((resolve) =>
    stream
      .on('end', resolve)
      .on('close', resolve)
      .on('error', () => resolve()),
  );
  docker.modem.demuxStream(stream, options.stdout, options.stderr);
  if (state.signal !== undefined) return 128 + (SIGNAL_NUMBERS[state.signal] ?? 1);
  state.container = container;
  await container.start();
  if (state.signal !== undefined) stopContainer(container, state.signal);
  const result = (await container.wait()) as { StatusCode: number };
  await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 2000))]);
  if (state.signal !== undefined) return result.StatusCode !== 0 ? result.StatusCode : 128 + (SIGNAL_NUMBERS[state.signal] ?? 1);
  return result.StatusCode;
}

/** The layer directory where the stubs must be deleted before a commit; throws before CMD runs when it is out of reach. */
async function layerForCommit(docker: Docker, container: Docker.Container, stubs: readonly MountStub[]): Promise<string | undefined> {
  if (stubs.length === 0) return undefined;
  const [info, inspect] = await Promise.all([docker.info() as Promise<{ DockerRootDir: string }>, container.inspect()]);
  const dir = writableLayerDir({
    driver: inspect.GraphDriver.Name,
    data: inspect.GraphDriver.Data as Record<string, string> | null,
    dockerRoot: info.DockerRootDir,
    containerId: inspect.Id,
  });
  if (dir === undefined) {
    throw new DibPypiError(
      `--commit: the engine will create ${stubs.map((s) => s.path).join(' and ')} in the container for the mounts, and dib-pypi cannot reach the container's layer (${inspect.GraphDriver.Name} storage under ${info.DockerRootDir}) to take them out: run dib-pypi as root on the engine's host (vfs or overlay2 storage)`,
    );
  }
  return dir;
}

/** Commit with the image's own config, so that Cmd, Env, ... are the base image's, not the step's. */
async function commitClean(container: Docker.Container, ref: string, base: Docker.ImageInspectInfo): Promise<string> {
  const { repo, tag } = splitImageRef(ref);
  const result = (await container.commit({ repo, tag, pause: true, _body: base.Config })) as { Id: string };
  return result.Id;
}

/** Run a container step; `report`, when given, is filled with what was done (also when it throws). */
export async function runInContainer(options: RunOptions, report?: RunReport): Promise<RunResult> {
  const { docker, plan } = options;
  if (options.commit !== undefined) checkCommitRef(options.commit);
  const base = await inspectImage(docker, options.image);
  for (const warning of pipEnvWarnings(options.image, base.Config?.Env ?? [])) options.warn(warning);
  let network = options.network;
  if (network === undefined) {
    const choice = chooseNetwork(plan);
    for (const warning of choice.warnings) options.warn(warning);
    network = choice.network;
  }
  if (report !== undefined) report.network = network;
  const work = mkdtempSync(join(tmpdir(), 'dib-pypi-run-'));
  let container: Docker.Container | undefined;
  const state: SignalState = {};
  const unwatch = watchSignals(state);
  try {
    const pipConf = join(work, 'pip.conf');
    writeFileSync(pipConf, renderPipConf(plan, { forContainer: true }), { mode: 0o644 });
    const mounts: Docker.MountSettings[] = [{ Type: 'bind', Source: pipConf, Target: PIP_CONF_TARGET, ReadOnly: true }];
    if (options.mirror !== undefined) mounts.push({ Type: 'bind', Source: options.mirror, Target: MIRROR_MOUNT, ReadOnly: true });
    container = await docker.createContainer({
      Image: base.Id,
      Cmd: options.command,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      HostConfig: { NetworkMode: network, Mounts: mounts },
    });
    if (report !== undefined) {
      report.container = container.id;
      report.mounts = mounts.map((m) =>
        m.Target === PIP_CONF_TARGET ? { target: m.Target, readOnly: true } : { target: m.Target, source: m.Source, readOnly: true },
      );
    }
    let stubs: MountStub[] = [];
    if (options.commit !== undefined) {
      const probe = await pathsInImage(docker, base.Id);
      try {
        stubs = await findMountStubs(
          mounts.map((m) => m.Target),
          probe.exists,
        );
      } finally {
        await probe.done();
      }
    }
    const layerDir = await layerForCommit(docker, container, stubs);
    if (layerDir !== undefined) stubs = recordParentMtimes(layerDir, stubs);
    options.progress(
      `running in ${container.id.slice(0, 12)} (${options.image}, network ${network})${options.mirror !== undefined ? `, mirror at ${MIRROR_MOUNT}` : ''}`,
    );
    const exitCode = await runAttached(container, docker, options, state);
    if (report !== undefined) report.exitCode = exitCode;
    if (exitCode !== 0 || options.commit === undefined || state.signal !== undefined) return { exitCode };
    if (layerDir !== undefined) {
      const target = container;
      await removeMountStubs(layerDir, stubs, () => changedPaths(target));
    }
    const left = (await changedPaths(container)).filter((p: string) =>
      mounts.some((m) => p === m.Target || (m.Target.startsWith(`${p}/`) && stubs.some((s) => s.path === p))),
    );
    if (left.length > 0) throw new DibPypiError(`--commit: mount points still in the container's layer (${left.join(', ')}): not committing`);
    const imageId = await commitClean(container, options.commit, base);
    options.progress(`committed ${options.commit} (${imageId.replace(/^sha256:/, '').slice(0, 12)})`);
    if (report !== undefined) {
      report.committed = options.commit;
      report.imageId = imageId;
    }
    return { exitCode, imageId };
  } finally {
    if (container !== undefined) {
      const removed = await container.remove({ force: true, v: true }).then(
        () => true,
        () => false,
      );
      if (report !== undefined) report.removed = removed;
    }
    rmSync(work, { recursive: true, force: true });
    unwatch();
  }
}
