// The daemonless builders, podman and buildah, driven through their CLIs: which binary, whether it
// runs, and the few image operations a build needs besides the build itself (inspect, list, remove).
// Both keep images in containers-storage (storage.conf, or $CONTAINERS_STORAGE_CONF), so one user's
// podman and buildah see the same images.
import { spawnSync } from 'node:child_process';
import { DibPypiError } from '../errors.js';
import type { EnvMap } from '../plan/types.js';

export type OciEngineName = 'podman' | 'buildah';

export interface OciEngine {
  name: OciEngineName;
  /** The binary to run: $DIB_PYPI_PODMAN / $DIB_PYPI_BUILDAH, else the name on PATH. */
  binary: string;
  env: EnvMap;
}

export class OciEngineUnavailableError extends DibPypiError {}

export function binaryVariable(name: OciEngineName): string {
  return name === 'podman' ? 'DIB_PYPI_PODMAN' : 'DIB_PYPI_BUILDAH';
}

export function ociEngine(name: OciEngineName, env: EnvMap): OciEngine {
  return { name, binary: env[binaryVariable(name)] || name, env };
}

export interface EngineRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run the engine to completion, output captured; throws when it cannot be started at all. */
export function runEngine(engine: OciEngine, args: string[], input?: string | Buffer): EngineRun {
  const result = spawnSync(engine.binary, args, {
    encoding: 'utf8',
    env: engine.env as NodeJS.ProcessEnv,
    maxBuffer: 64 << 20,
    ...(input !== undefined ? { input } : {}),
  });
  if (result.error !== undefined) {
    throw new OciEngineUnavailableError(
      `cannot run ${engine.binary}: ${(result.error as NodeJS.ErrnoException).code ?? result.error.message} (set ${binaryVariable(engine.name)} to the ${engine.name} to use)`,
      { cause: result.error },
    );
  }
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The last line of the engine's complaint. */
export function lastLine(text: string): string {
  return (
    text
      .trim()
      .split('\n')
      .filter((line) => line.trim() !== '')
      .pop() ?? ''
  );
}

/** `podman version` / `buildah version`: the engine runs here (no daemon to reach; storage is opened by the build). */
export function checkEngine(engine: OciEngine): void {
  const version = runEngine(engine, ['version']);
  if (version.status !== 0) throw new OciEngineUnavailableError(`${engine.binary} version failed: ${lastLine(version.stderr)}`);
}

/** The image's ENV, or none when the image is not in local storage (the build reports what it cannot find). */
export function imageEnv(engine: OciEngine, image: string): string[] {
  const args = engine.name === 'podman' ? ['image', 'inspect', image] : ['inspect', '--type', 'image', image];
  const result = runEngine(engine, args);
  if (result.status !== 0) return [];
  try {
    const parsed = JSON.parse(result.stdout) as unknown;
    if (engine.name === 'podman') return (parsed as { Config?: { Env?: string[] | null } }[])[0]?.Config?.Env ?? [];
    return (parsed as { OCIv1?: { config?: { Env?: string[] | null } } }).OCIv1?.config?.Env ?? [];
  } catch {
    return [];
  }
}

/** Whether the image is in local storage. */
export function imageExists(engine: OciEngine, ref: string): boolean {
  const args = engine.name === 'podman' ? ['image', 'exists', ref] : ['inspect', '--type', 'image', ref];
  return runEngine(engine, args).status === 0;
}

/** The names (`localhost/repo:tag`) of the local images that carry the label `key=value`. */
export function imagesLabelled(engine: OciEngine, key: string, value: string): string[] {
  const filter = `label=${key}=${value}`;
  const args = engine.name === 'podman' ? ['images', '--format', 'json', '--filter', filter] : ['images', '--json', '--filter', filter];
  const result = runEngine(engine, args);
  if (result.status !== 0) throw new DibPypiError(`cannot list the images of ${engine.binary}: ${lastLine(result.stderr)}`);
  const images = JSON.parse(result.stdout || '[]') as { Names?: string[] | null; names?: string[] | null }[];
  return images.flatMap((image) => image.Names ?? image.names ?? []);
}

/** Where the engine keeps its images and containers (storage.conf's graphroot): `info` opens the storage but builds nothing. */
export function storageGraphRoot(engine: OciEngine): string {
  const format = engine.name === 'podman' ? '{{.Store.GraphRoot}}' : '{{.store.GraphRoot}}';
  const result = runEngine(engine, ['info', '--format', format]);
  const root = result.stdout.trim();
  if (result.status !== 0 || !root.startsWith('/')) throw new DibPypiError(`cannot read the storage of ${engine.binary}: ${lastLine(result.stderr) || root}`);
  return root;
}

/** Remove an image, quietly: one still used by a running build stays for the next time. */
export function removeImage(engine: OciEngine, ref: string): void {
  runEngine(engine, ['rmi', ref]);
}
