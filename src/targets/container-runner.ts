// A container step through the Engine API (dockerode): the mirror and pip.conf mounted read-only,
// CMD's output streamed and its exit code returned, optionally committed without any trace of
// either; the container is removed whatever happens.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { DibPypiError, UsageError } from '../errors.js';
import { renderPipConf } from '../inject/render-pip-conf.js';
import type { Plan } from '../plan/types.js';
import { chooseNetwork } from './build-network.js';
import { PIP_CONF_TARGET } from './docker-builder.js';
import { MIRROR_MOUNT } from './mirror-location.js';
import { findMountStubs, removeMountStubs, writableLayerDir, type MountStub } from './mount-stubs.js';

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

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/** `repo[:tag]`: the tag is after the last colon that follows the last slash (a registry may have a port). */
export function splitImageRef(ref: string): { repo: string; tag: string } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref, tag: 'latest' };
}

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

/** The engine's stat of a path in a container (HEAD /containers/ID/archive). */
function containerStat(container: Docker.Container) {
  return async (path: string): Promise<{ mtime: Date } | undefined> => {
    try {
      const response = (await container.infoArchive({ path })) as { headers: Record<string, string | undefined> };
      const header = response.headers['x-docker-container-path-stat'];
      const stat = JSON.parse(Buffer.from(header ?? '', 'base64').toString('utf8')) as { mtime: string };
      return { mtime: new Date(stat.mtime) };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  };
}

async function inspectImage(docker: Docker, image: string): Promise<Docker.ImageInspectInfo> {
  try {
    return await docker.getImage(image).inspect();
  } catch (error) {
    if (statusOf(error) === 404) throw new UsageError(`no such image here: ${image} (dib-pypi docker run never pulls)`, 'IMAGE');
    throw new DibPypiError(`cannot reach the Docker engine: ${(error as Error).message}`, { cause: error });
  }
}

/** Signals seen while we run: the first one stops the container (and we clean up), as Ctrl-C should. */
interface SignalState {
  signal?: NodeJS.Signals;
  container?: Docker.Container;
}

function watchSignals(state: SignalState): () => void {
  const stop = (signal: NodeJS.Signals) => {
    state.signal ??= signal;
    state.container?.kill({ signal }).catch(() => {});
  };
  for (const signal of SIGNALS) process.on(signal, stop);
  return () => {
    for (const signal of SIGNALS) process.off(signal, stop);
  };
}

/** Start, stream, wait; resolves with CMD's exit code (128+n when we were told to stop by signal n). */
async function runAttached(container: Docker.Container, docker: Docker, options: RunOptions, state: SignalState): Promise<number> {
  const stream = await container.attach({ stream: true, stdout: true, stderr: true });
  const ended = new Promise<void>((resolve) => stream.on('end', resolve).on('close', resolve).on('error', () => resolve()));
  docker.modem.demuxStream(stream, options.stdout, options.stderr);
  if (state.signal !== undefined) return 128 + (SIGNAL_NUMBERS[state.signal] ?? 1);
  state.container = container;
  await container.start();
  if (state.signal !== undefined) await container.kill({ signal: state.signal }).catch(() => {});
  const result = (await container.wait()) as { StatusCode: number };
  await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 2000))]);
  if (state.signal !== undefined) return result.StatusCode !== 0 ? result.StatusCode : 128 + (SIGNAL_NUMBERS[state.signal] ?? 1);
  return result.StatusCode;
}

/** The layer directory where the stubs must be deleted before a commit; throws before CMD runs when it is out of reach. */
async function layerForCommit(docker: Docker, container: Docker.Container, stubs: readonly MountStub[]): Promise<string | undefined> {
  if (stubs.length === 0) return undefined;
  const [info, inspect] = await Promise.all([docker.info() as Promise<{ DockerRootDir: string }>, container.inspect()]);
  const dir = writableLayerDir({ driver: inspect.GraphDriver.Name, data: inspect.GraphDriver.Data as Record<string, string> | null, dockerRoot: info.DockerRootDir, containerId: inspect.Id });
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

export async function runInContainer(options: RunOptions): Promise<RunResult> {
  const { docker, plan } = options;
  const base = await inspectImage(docker, options.image);
  let network = options.network;
  if (network === undefined) {
    const choice = chooseNetwork(plan);
    for (const warning of choice.warnings) options.warn(warning);
    network = choice.network;
  }
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
    const stubs = options.commit !== undefined ? await findMountStubs(mounts.map((m) => m.Target), containerStat(container)) : [];
    const layerDir = await layerForCommit(docker, container, stubs);
    options.progress(`running in ${container.id.slice(0, 12)} (${options.image}, network ${network})${options.mirror !== undefined ? `, mirror at ${MIRROR_MOUNT}` : ''}`);
    const exitCode = await runAttached(container, docker, options, state);
    if (exitCode !== 0 || options.commit === undefined || state.signal !== undefined) return { exitCode };
    if (layerDir !== undefined) {
      const target = container;
      await removeMountStubs(layerDir, stubs, async () => ((await target.changes()) ?? []).map((c: { Path: string }) => c.Path));
    }
    const left = ((await container.changes()) ?? []).map((c: { Path: string }) => c.Path).filter((p: string) => mounts.some((m) => p === m.Target || m.Target.startsWith(`${p}/`) && stubs.some((s) => s.path === p)));
    if (left.length > 0) throw new DibPypiError(`--commit: mount points still in the container's layer (${left.join(', ')}): not committing`);
    const imageId = await commitClean(container, options.commit, base);
    options.progress(`committed ${options.commit} (${imageId.replace(/^sha256:/, '').slice(0, 12)})`);
    return { exitCode, imageId };
  } finally {
    if (container !== undefined) await container.remove({ force: true, v: true }).catch(() => {});
    rmSync(work, { recursive: true, force: true });
    unwatch();
  }
}
