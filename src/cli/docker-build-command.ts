// `dib-pypi docker build [--mirror DIR] [plan flags] [docker build flags] CONTEXT`: docker's exit code is ours.
import { readFileSync } from 'node:fs';
import Docker from 'dockerode';
import { splitBuildArgs } from '../targets/docker-build-args.js';
import { dockerBuild } from '../targets/docker-builder.js';
import { resolveMirror } from '../targets/mirror-location.js';
import { readLock } from '../targets/read-lock.js';
import { warn, warnAll } from './output.js';
import { planFromCli } from './plan-input.js';
import { redact } from '../redact.js';
import type { DockerBuildOptions } from './commands/docker-build.js';

export async function runDockerBuild(flags: DockerBuildOptions): Promise<void> {
  const args = splitBuildArgs(flags.rawArgs);
  const plan = await planFromCli(args.own, process.env, process.cwd());
  warnAll(plan.warnings);
  const mirror = resolveMirror(args.own.mirror, process.env);
  const lock = args.own.lock === undefined ? undefined : readLock(args.own.lock);
  const stdinDockerfile = args.file === '-' ? readFileSync(0, 'utf8') : undefined;
  process.exitCode = await dockerBuild({
    engine: new Docker(),
    args,
    plan,
    mirror,
    lock: lock?.text,
    env: process.env,
    cwd: process.cwd(),
    ...(stdinDockerfile !== undefined ? { stdinDockerfile } : {}),
    warn,
    progress: (text) => process.stderr.write(`dib-pypi: ${redact(text)}\n`),
  });
}
