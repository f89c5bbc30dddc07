// Benchmark: `dib-pypi docker build` (BuildKit mounts, network none) against the naive
// `docker build --network host --build-arg PIP_INDEX_URL=http://127.0.0.1:PORT/` of the same
// Dockerfile with the same mirror served by nginx, measured alternately in the same run (a ratio).
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { $ } from 'zx';
import { cleanEnv } from '../test/helpers/cli.js';
import { mirrorImageTag } from '../src/targets/mirror-image.js';
import { baseImage, DOCKER, dockerProblem, makeTestMirror, tempDir } from '../test/helpers/docker.js';
import { makeWheel } from '../test/helpers/make-dist.js';
import { startNginx } from '../test/helpers/nginx.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url)); // dist/bench/ -> the repository
const CLI = join(REPO, 'bin', 'dib-pypi.cjs');
const TARGET_RATIO = 1.15;
const PROJECTS = 30;

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}

function timed(command: string, args: string[], env: NodeJS.ProcessEnv): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status}):\n${result.stderr}`);
  return ms;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function main(): Promise<void> {
  const runs = flag('--runs', 3);
  const problem = dockerProblem();
  if (problem !== undefined) throw new Error(problem);
  const base = await baseImage();
  const work = tempDir('dib-pypi-bench-docker-');
  const images = ['dib-pypi-bench:naive', 'dib-pypi-bench:dib-pypi'];
  try {
    // dib-app + dib-dep, and PROJECTS more that one meta-project needs: one pip resolve of 32 projects.
    const mirror = await makeTestMirror(work);
    const names = Array.from({ length: PROJECTS }, (_, i) => `bench-lib-${i}`);
    for (const name of names) await makeWheel(join(mirror, name), { name, version: '1.0' });
    await makeWheel(join(mirror, 'bench-all'), { name: 'bench-all', version: '1.0', requires: [...names, 'dib-app'] });
    await $({ env: cleanEnv() })`${process.execPath} ${CLI} mirror index ${mirror}`;

    const context = join(work, 'context');
    mkdirSync(context);
    // ARG PIP_INDEX_URL: what the naive build needs for --build-arg to reach pip (and what puts the URL in the history).
    writeFileSync(
      join(context, 'Dockerfile'),
      `FROM ${base}\nARG PIP_INDEX_URL\nRUN python3 -m pip install --break-system-packages --no-cache-dir bench-all && python3 -c "import dib_app"\n`,
    );
    const nginx = await startNginx(mirror);
    try {
      const env = { ...cleanEnv(), DOCKER_BUILDKIT: '1', DIB_PYPI_DOCKER: DOCKER };
      // Each timed build's image is removed afterwards (untimed): a re-tag would leave the last one dangling.
      const removed = (ms: number, tag: string) => {
        $.sync({ nothrow: true, quiet: true })`${DOCKER} image rm ${tag}`;
        return ms;
      };
      const naive = () =>
        removed(
          timed(
            DOCKER,
            ['build', '-q', '--no-cache', '--network', 'host', '--build-arg', `PIP_INDEX_URL=${nginx.url}`, '-t', images[0] as string, context],
            env,
          ),
          images[0] as string,
        );
      const ours = () =>
        removed(
          timed(process.execPath, [CLI, 'docker', 'build', '--mirror', mirror, '--offline', '-q', '--no-cache', '-t', images[1] as string, context], env),
          images[1] as string,
        );
      images.push(mirrorImageTag(mirror));
      const first = ours(); // imports the mirror image (once per change of the mirror)
      naive(); // warm-up
      const times = { naive: [] as number[], ours: [] as number[] };
      for (let i = 0; i < runs; i++) {
        times.naive.push(naive());
        times.ours.push(ours());
      }
      const ratio = median(times.ours) / median(times.naive);
      const line = (label: string, values: number[]) =>
        `  ${label.padEnd(52)} median ${median(values).toFixed(0)} ms (${values.map((v) => v.toFixed(0)).join(', ')})`;
      process.stdout.write(`docker build of a ${PROJECTS + 3}-project install, --no-cache, ${runs} alternating runs each (BuildKit, ${DOCKER}):\n`);
      process.stdout.write(`${line('naive: --network host --build-arg PIP_INDEX_URL (nginx)', times.naive)}\n`);
      process.stdout.write(`${line('dib-pypi docker build (mounts, network none)', times.ours)}\n`);
      process.stdout.write(`  dib-pypi's first build, importing the mirror:        ${first.toFixed(0)} ms\n`);
      process.stdout.write(`ratio dib-pypi / naive: ${ratio.toFixed(2)} (target <= ${TARGET_RATIO})\n`);
      if (ratio > TARGET_RATIO) process.exitCode = 1;
    } finally {
      await nginx.stop();
    }
  } finally {
    $.sync({ nothrow: true, quiet: true })`${DOCKER} image rm -f ${images}`;
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:docker: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
