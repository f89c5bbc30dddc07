// The build's Dockerfile: `-f FILE` (relative to the working directory), `-f -` (its text read from
// stdin by the caller) or CONTEXT/Dockerfile, read once; the user's file is never written to.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { SplitBuildArgs } from './docker-build-args.js';

export interface DockerfileText {
  text: string;
  /** Where it was read; none for stdin. */
  path?: string;
}

/** CONTEXT/Dockerfile; for podman and buildah CONTEXT/Containerfile first, as they look. */
function defaultDockerfile(context: string, containerfile: boolean): string {
  const dockerfile = join(context, 'Dockerfile');
  const preferred = join(context, 'Containerfile');
  return containerfile && existsSync(preferred) ? preferred : dockerfile;
}

export function readDockerfile(args: SplitBuildArgs, cwd: string, stdinText: string | undefined, containerfile = false): DockerfileText {
  if (args.file === '-') return { text: stdinText ?? '' };
  const path = args.file !== undefined ? resolve(cwd, args.file) : defaultDockerfile(resolve(cwd, args.context), containerfile);
  try {
    return { text: readFileSync(path, 'utf8'), path };
  } catch (error) {
    throw new UsageError(
      `cannot read the Dockerfile ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      args.file !== undefined ? '--file' : undefined,
    );
  }
}
