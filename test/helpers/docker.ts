// Test fixture: the real Docker engine (started by .ci/run), a bookworm + python3-pip base image made
// with `docker import` of the cached debootstrap root (imported once per root, tagged by its cache
// key), a two-project test mirror, and a scan of `docker save` for traces.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before } from 'node:test';
import { cleanEnv, runCli } from './cli.js';
import { cachedBookwormRoot, debootstrapProblem } from './debootstrap-root.js';
import { makeWheel } from './make-dist.js';

/** The docker CLI with BuildKit built in (Debian's docker.io 20.10), unless DIB_PYPI_DOCKER names another. */
export const DOCKER = process.env.DIB_PYPI_DOCKER || (existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker');

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function docker(args: string[], input?: string): Run {
  const result = spawnSync(DOCKER, args, { encoding: 'utf8', input, maxBuffer: 256 << 20, env: { ...process.env, DOCKER_BUILDKIT: '1' } });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? result.error?.message ?? '' };
}

export function dockerOk(args: string[]): string {
  const result = docker(args);
  if (result.status !== 0) throw new Error(`docker ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** Why the docker tests cannot run here, or undefined. */
export function dockerProblem(): string | undefined {
  const version = docker(['version', '--format', '{{.Server.Version}}']);
  if (version.status !== 0 || version.stdout.trim() === '')
    return `no Docker engine answers ${DOCKER} (start dockerd as .ci/run does): ${version.stderr.trim().split('\n').pop() ?? ''}`;
  return debootstrapProblem();
}

/** The set-up the `dib-pypi docker build|run` tests share; `base`, `work` and `mirror` are set by the suite's `before`. */
export interface DockerSuite {
  /** Why docker cannot be tested here, or undefined. */
  problem: string | undefined;
  /** `describe`'s skip option: the problem, unless every test is required (CI). */
  skip: string | false;
  /** A clean environment for the CLI, with the docker CLI to drive. */
  env: Record<string, string>;
  base: string;
  work: string;
  mirror: string;
  /** Images the tests made, removed after the suite. */
  images: string[];
}

/**
 * Call at the top of the test file (its `describe` takes `skip`): the base image and a work directory holding the test mirror before the
 * tests; after them the images in `images` (and those `alsoRemove` names) go, then the work directory.
 */
export function dockerSuite(prefix: string, alsoRemove: (suite: DockerSuite) => string[] = () => []): DockerSuite {
  const problem = dockerProblem();
  const suite: DockerSuite = {
    problem,
    skip: problem !== undefined && !process.env.DIB_PYPI_REQUIRE_ALL ? problem : false,
    env: cleanEnv({ DIB_PYPI_DOCKER: DOCKER }),
    base: '',
    work: '',
    mirror: '',
    images: [],
  };
  before(async () => {
    if (problem !== undefined) return;
    suite.base = await baseImage();
    suite.work = tempDir(prefix);
    suite.mirror = await makeTestMirror(suite.work);
  });
  after(() => {
    if (suite.mirror !== '') suite.images.push(...alsoRemove(suite));
    if (suite.images.length > 0) docker(['image', 'rm', '-f', ...suite.images]);
    if (suite.work !== '') rmSync(suite.work, { recursive: true, force: true });
  });
  return suite;
}

/** `dib-pypi-test-bookworm:<key of the cached root>`: imported once, reused by every test and run. */
export async function baseImage(): Promise<string> {
  const tar = await cachedBookwormRoot();
  const key = basename(tar, '.tar').split('-').pop() as string;
  const tag = `dib-pypi-test-bookworm:${key}`;
  if (docker(['image', 'inspect', tag]).status !== 0) dockerOk(['import', tar, tag]);
  return tag;
}

/** A mirror with `dib-app` (which needs `dib-dep>=1`) and `dib-dep`, indexed by the real `dib-pypi mirror index`. */
export async function makeTestMirror(parent: string): Promise<string> {
  const mirror = join(parent, 'mirror');
  mkdirSync(mirror, { recursive: true });
  await makeWheel(join(mirror, 'dib-app'), {
    name: 'dib-app',
    version: '1.0',
    requires: ['dib-dep>=1'],
    modules: { 'dib_app/__init__.py': 'import dib_dep\nVALUE = dib_dep.VALUE + 1\n' },
  });
  await makeWheel(join(mirror, 'dib-dep'), { name: 'dib-dep', version: '1.2', modules: { 'dib_dep/__init__.py': 'VALUE = 41\n' } });
  const indexed = runCli(['mirror', 'index', mirror]);
  if (indexed.status !== 0) throw new Error(`mirror index failed: ${indexed.stderr}`);
  return mirror;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Containers and dangling images, to check that a command left none behind. */
export function engineLeftovers(): { containers: string[]; dangling: string[] } {
  const lines = (text: string) =>
    text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .sort();
  return {
    containers: lines(dockerOk(['ps', '-aq', '--no-trunc'])),
    dangling: lines(dockerOk(['images', '-q', '--no-trunc', '--filter', 'dangling=true'])),
  };
}

export interface SavedImage {
  /** Every byte of `docker save` (all layer tars uncompressed, the config with its history), to search. */
  bytes: Buffer;
  /** Entry names of the layers the base image does not have. */
  newLayerEntries: string[];
  config: { config: { Env?: string[] | null; Cmd?: string[] | null; Labels?: Record<string, string> | null }; history?: { created_by?: string }[] };
  historyText: string;
}

/** `docker save IMAGE`, unpacked: the layers not in `base` listed, everything kept for byte searches. */
export function saveImage(image: string, base: string): SavedImage {
  const dir = tempDir('dib-pypi-save-');
  try {
    const tar = join(dir, 'image.tar');
    dockerOk(['save', '-o', tar, image]);
    const out = join(dir, 'x');
    mkdirSync(out);
    const untar = spawnSync('tar', ['-xf', tar, '-C', out]);
    if (untar.status !== 0) throw new Error(`cannot unpack docker save: ${untar.stderr}`);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { Config: string; Layers: string[] }[];
    const entry = manifest[0] as { Config: string; Layers: string[] };
    const config = JSON.parse(readFileSync(join(out, entry.Config), 'utf8')) as SavedImage['config'] & { rootfs: { diff_ids: string[] } };
    const baseIds = new Set((JSON.parse(dockerOk(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', base])) as string[]) ?? []);
    const newLayerEntries: string[] = [];
    entry.Layers.forEach((layer, i) => {
      if (baseIds.has(config.rootfs.diff_ids[i] as string)) return;
      const list = spawnSync('tar', ['-tvf', join(out, layer)], { encoding: 'utf8', maxBuffer: 256 << 20 });
      newLayerEntries.push(...list.stdout.split('\n').filter(Boolean));
    });
    const historyText = dockerOk(['history', '--no-trunc', '--format', '{{.CreatedBy}} {{.Comment}}', image]);
    return { bytes: readFileSync(tar), newLayerEntries, config, historyText };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The needles found anywhere in the saved image or its history. */
export function tracesIn(saved: SavedImage, needles: string[]): string[] {
  return needles.filter((needle) => saved.bytes.includes(Buffer.from(needle)) || saved.historyText.includes(needle));
}

/**
 * The temp directories named `prefix*` that were not there when `tempDirWatch` was called. The machine's temp directory is
 * shared with whatever else runs on it (a killed run of these tests leaves its directories behind), so only new ones count.
 */
export function tempDirWatch(prefix: string): () => string[] {
  const list = () => readdirSync(tmpdir()).filter((name) => name.startsWith(prefix));
  const before = new Set(list());
  return () => list().filter((name) => !before.has(name));
}
