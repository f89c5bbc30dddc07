// Test fixture for `dib-pypi podman build` / `buildah build`: Debian's podman or buildah on a storage
// of their own (vfs in a temp directory under /var/tmp, through $CONTAINERS_STORAGE_CONF; podman's
// tmp_dir through $CONTAINERS_CONF), so the tests touch no other images; the cached debootstrap root as the base
// image; the two-project test mirror; and a scan of every blob of the built image.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before } from 'node:test';
import { cleanEnv } from './cli.js';
import { cachedBookwormRoot, debootstrapProblem } from './debootstrap-root.js';
import { makeTestMirror, tempDir } from './docker.js';
import type { Run } from './docker.js';

export type Engine = 'podman' | 'buildah';

export function engineBinary(engine: Engine): string {
  return existsSync(`/usr/bin/${engine}`) ? `/usr/bin/${engine}` : engine;
}

export interface OciSuite {
  engine: Engine;
  problem: string | undefined;
  skip: string | false;
  /** The CLI's environment: the engine to drive and the suite's storage. */
  env: Record<string, string>;
  base: string;
  work: string;
  /** The engine's storage: outside /tmp, where buildah 1.28 cannot clean RUN mount points in /tmp (src/targets/oci-mount-targets.ts). */
  storage: string;
  mirror: string;
}

/** Why the engine cannot build here, or undefined. */
export function ociProblem(engine: Engine): string | undefined {
  // --version opens no storage: `version` would create the default one under /var/lib/containers.
  const version = spawnSync(engineBinary(engine), ['--version'], { encoding: 'utf8' });
  if (version.status !== 0)
    return `${engine} does not run here (apt-get install ${engine}, as .ci/run does): ${version.error?.message ?? version.stderr.trim().split('\n').pop() ?? ''}`;
  return debootstrapProblem();
}

export function run(suite: OciSuite, args: string[], input?: string): Run {
  const result = spawnSync(engineBinary(suite.engine), args, { encoding: 'utf8', input, maxBuffer: 256 << 20, env: suite.env });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? result.error?.message ?? '' };
}

export function runOk(suite: OciSuite, args: string[]): string {
  const result = run(suite, args);
  if (result.status !== 0) throw new Error(`${suite.engine} ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/**
 * Whether this process can mount an overlay in `dir` (root, and a kernel and file system that allow it):
 * then the engines' overlay driver starts a RUN with a mount instead of a copy of the image, as CI's dockerd does.
 */
function overlayWorks(dir: string): boolean {
  const probe = join(dir, 'overlay-probe');
  const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((name) => join(probe, name)) as [string, string, string, string];
  for (const path of [lower, upper, work, merged]) mkdirSync(path, { recursive: true });
  const mounted = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged]).status === 0;
  const unmounted = mounted && spawnSync('umount', [merged]).status === 0;
  if (!mounted || unmounted) rmSync(probe, { recursive: true, force: true });
  return unmounted;
}

/** The storage of this suite only, in `dir`: overlay where the machine allows it, vfs otherwise. */
export function storageEnv(engine: Engine, dir: string): Record<string, string> {
  const storage = join(dir, 'storage.conf');
  const driver = overlayWorks(dir) ? 'overlay' : 'vfs';
  writeFileSync(storage, `[storage]\ndriver = "${driver}"\ngraphroot = "${dir}/root"\nrunroot = "${dir}/run"\n`);
  const containers = join(dir, 'containers.conf');
  writeFileSync(containers, `[engine]\ntmp_dir = "${dir}/tmp"\n`);
  return cleanEnv({ CONTAINERS_STORAGE_CONF: storage, CONTAINERS_CONF: containers, [`DIB_PYPI_${engine.toUpperCase()}`]: engineBinary(engine) });
}

/** The cached bookworm root as `localhost/dib-pypi-test-bookworm:<key>`: podman imports it, buildah adds it to an image from scratch. */
async function importBase(suite: OciSuite): Promise<string> {
  const tar = await cachedBookwormRoot();
  const ref = `localhost/dib-pypi-test-bookworm:${basename(tar, '.tar').split('-').pop() as string}`;
  if (suite.engine === 'podman') runOk(suite, ['import', '--quiet', tar, ref]);
  else {
    const container = runOk(suite, ['from', '--quiet', 'scratch']).trim();
    runOk(suite, ['add', '--quiet', container, tar, '/']);
    runOk(suite, ['commit', '--quiet', '--rm', container, ref]);
  }
  return ref;
}

/** Call at the top of the test file: storage, base image and mirror before the tests; all of it removed after them. */
export function ociSuite(engine: Engine, prefix: string): OciSuite {
  const problem = ociProblem(engine);
  const suite: OciSuite = {
    engine,
    problem,
    skip: problem !== undefined && !process.env.DIB_PYPI_REQUIRE_ALL ? problem : false,
    env: {},
    base: '',
    work: '',
    storage: '',
    mirror: '',
  };
  before(async () => {
    if (problem !== undefined) return;
    suite.work = tempDir(prefix);
    suite.storage = mkdtempSync(join('/var/tmp', `${prefix}storage-`));
    suite.env = storageEnv(engine, suite.storage);
    suite.base = await importBase(suite);
    suite.mirror = await makeTestMirror(suite.work);
  });
  after(() => {
    if (suite.storage !== '') {
      // overlay: the layers of images and containers are unmounted when the engine is done with them; whatever a failed test left goes here.
      if (existsSync(join(suite.storage, 'storage.conf'))) {
        if (suite.engine === 'podman') run(suite, ['system', 'reset', '--force']);
        else
          for (const args of [
            ['rm', '--all'],
            ['rmi', '--all', '--force'],
          ])
            run(suite, args);
      }
      for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').reverse()) {
        const point = line.split(' ')[4];
        if (point?.startsWith(`${suite.storage}/`)) spawnSync('umount', ['-l', point]);
      }
      rmSync(suite.storage, { recursive: true, force: true });
    }
    if (suite.work !== '') rmSync(suite.work, { recursive: true, force: true });
  });
  return suite;
}

/** Working containers and images without a name: a build must leave none. */
export function leftovers(suite: OciSuite): { containers: string[]; dangling: string[] } {
  const lines = (text: string) =>
    text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .sort();
  const containers = suite.engine === 'podman' ? ['ps', '--all', '--external', '--quiet', '--no-trunc'] : ['containers', '--quiet', '--notruncate'];
  return { containers: lines(runOk(suite, containers)), dangling: lines(runOk(suite, ['images', '--quiet', '--no-trunc', '--filter', 'dangling=true'])) };
}

export interface SavedOciImage {
  /** Every blob of the OCI archive (layers uncompressed, config, manifest), to search. */
  bytes: Buffer;
  newLayerEntries: string[];
  config: {
    config?: { Env?: string[] | null; Labels?: Record<string, string> | null };
    history?: { created_by?: string; comment?: string }[];
    rootfs: { diff_ids: string[] };
  };
  historyText: string;
}

function baseDiffIds(suite: OciSuite, base: string): string[] {
  if (suite.engine === 'podman') return (JSON.parse(runOk(suite, ['image', 'inspect', base])) as { RootFS: { Layers: string[] } }[])[0]?.RootFS.Layers ?? [];
  return (JSON.parse(runOk(suite, ['inspect', '--type', 'image', base])) as { OCIv1: { rootfs: { diff_ids: string[] } } }).OCIv1.rootfs.diff_ids;
}

/** The image as an OCI archive (`podman save --format oci-archive`, `buildah push oci-archive:`), every blob unpacked. */
export function saveOciImage(suite: OciSuite, image: string, base: string): SavedOciImage {
  const dir = tempDir('dib-pypi-oci-save-');
  try {
    const archive = join(dir, 'image.tar');
    if (suite.engine === 'podman') runOk(suite, ['save', '--format', 'oci-archive', '-o', archive, image]);
    else runOk(suite, ['push', '--quiet', '--disable-compression', image, `oci-archive:${archive}`]);
    const out = join(dir, 'x');
    mkdirSync(out);
    const untar = spawnSync('tar', ['-xf', archive, '-C', out]);
    if (untar.status !== 0) throw new Error(`cannot unpack the OCI archive: ${untar.stderr}`);
    const blob = (digest: string) => {
      const raw = readFileSync(join(out, 'blobs', ...digest.split(':')));
      return raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
    };
    const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    const manifest = JSON.parse(blob((index.manifests[0] as { digest: string }).digest).toString('utf8')) as {
      config: { digest: string };
      layers: { digest: string }[];
    };
    const config = JSON.parse(blob(manifest.config.digest).toString('utf8')) as SavedOciImage['config'];
    const baseIds = new Set(baseDiffIds(suite, base));
    const chunks: Buffer[] = [readFileSync(join(out, 'index.json')), blob(manifest.config.digest)];
    const newLayerEntries: string[] = [];
    manifest.layers.forEach((layer, i) => {
      const bytes = blob(layer.digest);
      chunks.push(bytes);
      if (baseIds.has(config.rootfs.diff_ids[i] as string)) return;
      const path = join(dir, `layer-${i}.tar`);
      writeFileSync(path, bytes);
      const list = spawnSync('tar', ['-tvf', path], { encoding: 'utf8', maxBuffer: 256 << 20 });
      newLayerEntries.push(...list.stdout.split('\n').filter(Boolean));
    });
    const historyText = (config.history ?? []).map((h) => `${h.created_by ?? ''} ${h.comment ?? ''}`).join('\n');
    return { bytes: Buffer.concat(chunks), newLayerEntries, config, historyText };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Run a command in the built image, network none. */
export function runInImage(suite: OciSuite, image: string, command: string[]): string {
  if (suite.engine === 'podman') {
    // This machine's container has no CAP_SYS_RESOURCE: podman run's default rlimits for root
    // (nofile and nproc 1048576) are above the hard limits and runc fails to set them (EPERM).
    return runOk(suite, ['run', '--rm', '--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', image, ...command]);
  }
  const container = runOk(suite, ['from', '--quiet', image]).trim();
  try {
    return runOk(suite, ['run', '--network', 'none', container, '--', ...command]);
  } finally {
    run(suite, ['rm', container]);
  }
}
