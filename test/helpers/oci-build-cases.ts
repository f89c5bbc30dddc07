// The cases `dib-pypi podman build` and `dib-pypi buildah build` share, run against the real engine
// (test/integration/targets/podman-build.test.ts, buildah-build.test.ts): an offline build from the
// mirror with every blob of the image scanned, a failing RUN's exit code, Ctrl-C during a RUN, bad input,
// and the --lock cases (oci-build-lock-cases.ts).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN, runCliAsync } from './cli.js';
import { tempDirWatch } from './docker.js';
import { lockCases } from './oci-build-lock-cases.js';
import { leftovers, type OciSuite, run, runInImage, saveOciImage } from './oci.js';
import { need } from './require.js';
import { ociMirrorImageRef } from '../../src/targets/oci-mirror-image.js';

export const TOKEN = 'token-PLANTED-5e8d21';
const SECRET_PATH = '127.0.0.1:9/dib-secret-index';
const SECRET_URL = `http://dibuser:${TOKEN}@${SECRET_PATH}/`;
const SECRET_MOUNT = '--mount=type=secret,id=dib-pypi-pip-conf,target=/etc/pip.conf,mode=0444';

export function build(suite: OciSuite, args: string[]) {
  return runCliAsync([suite.engine, 'build', ...args], { env: suite.env, cwd: suite.work });
}

export function context(suite: OciSuite, name: string, dockerfile: string, file = 'Dockerfile'): string {
  const dir = join(suite.work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, file), dockerfile.replaceAll('BASE', suite.base));
  return dir;
}

function ok(t: Parameters<typeof need>[0], suite: OciSuite): boolean {
  return need(t, suite.problem === undefined, suite.problem ?? '');
}

/** Processes whose command line holds `token`. */
function processesWith(token: string): string[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
        return cmdline.includes(token) ? [`${pid}: ${cmdline}`] : [];
      } catch {
        return [];
      }
    });
}

/** buildah's RUN bundles (/var/tmp/buildahNNN/config.json) whose command holds `token`. */
function bundlesWith(token: string): string[] {
  return readdirSync('/var/tmp')
    .filter((name) => name.startsWith('buildah'))
    .filter((name) => {
      try {
        return readFileSync(join('/var/tmp', name, 'config.json'), 'utf8').includes(token);
      } catch {
        return false;
      }
    });
}

export function sharedCases(suite: OciSuite): void {
  const newWorkDirs = tempDirWatch('dib-pypi-oci-build-');
  test('offline build: the package and its dependency install from the read-only mirror; no pip.conf, URL or credential in any blob', async (t) => {
    if (!ok(t, suite)) return;
    const dockerfile = `FROM BASE
ARG PKG=none
RUN test ! -e /tmp/pypi/.dib-pypi && ! touch /tmp/pypi/written 2>/dev/null && echo mirror-read-only
RUN python3 -m pip install --break-system-packages "$PKG" \\
    # a comment inside the instruction
    && python3 -c "import dib_app; assert dib_app.VALUE == 42"
RUN ["python3", "-c", "import dib_dep; print('dep', dib_dep.VALUE)"]
`;
    const dir = context(suite, 'single', dockerfile, 'app.Containerfile');
    const tag = `localhost/dib-pypi-test-build:${suite.engine}`;
    const before = leftovers(suite);
    const result = await build(suite, [
      '--mirror',
      suite.mirror,
      '--mirror-url',
      'file:///tmp/pypi',
      '--mirror-url',
      SECRET_URL,
      '--offline',
      '--retries',
      '0',
      '-t',
      tag,
      '-f',
      join(dir, 'app.Containerfile'),
      '--build-arg',
      'PKG=dib-app',
      '--network',
      'none',
      '--layers=false',
      dir,
    ]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout + result.stderr, /mirror-read-only/);
    assert.match(result.stdout + result.stderr, /dep 41/, 'the exec-form RUN ran');
    assert.equal(readFileSync(join(dir, 'app.Containerfile'), 'utf8'), dockerfile.replaceAll('BASE', suite.base), 'the Dockerfile is unchanged');
    assert.doesNotMatch(result.stdout + result.stderr, new RegExp(TOKEN), 'the token is never printed');
    assert.equal(runInImage(suite, tag, ['python3', '-c', 'import dib_app; print(dib_app.VALUE)']).trim(), '42');

    const saved = saveOciImage(suite, tag, suite.base);
    const needles = [TOKEN, 'dibuser', SECRET_PATH, 'file:///tmp/pypi'];
    assert.deepEqual(
      needles.filter((needle) => saved.bytes.includes(Buffer.from(needle))),
      [],
    );
    assert.deepEqual(
      saved.newLayerEntries.filter((e) => /pip\.conf|pydistutils|\.cache\/pip|tmp\/pypi\/.|run\/secrets/.test(e)),
      [],
    );
    assert.equal(saved.config.config?.Env?.some((e) => /PIP_|pypi/i.test(e)) ?? false, false);
    assert.deepEqual(
      Object.keys(saved.config.config?.Labels ?? {}).filter((l) => l !== 'io.buildah.version'),
      [],
      'no label of ours',
    );
    // buildah keeps each RUN's --mount flags in the history: those and nothing else of ours.
    const mirrorMount = `--mount=type=bind,from=${ociMirrorImageRef(suite.mirror)},target=/tmp/pypi`;
    const runs = (saved.config.history ?? []).filter((h) => h.created_by?.includes('pip') || h.created_by?.includes('tmp/pypi'));
    assert.equal(runs.length, 3, saved.historyText);
    for (const h of runs) assert.ok(h.created_by?.includes(`${SECRET_MOUNT} ${mirrorMount}`), h.created_by);
    const rest = saved.historyText.replaceAll(SECRET_MOUNT, '').replaceAll(mirrorMount, '');
    assert.doesNotMatch(rest, /pip\.conf|dib-pypi-mirror|dib-pypi-pip-conf|--mount/);
    assert.deepEqual(leftovers(suite), before, 'no working containers or dangling images left');
    assert.deepEqual(newWorkDirs(), []);
  });

  test("a failing pip install fails the build with the engine's own exit code and leaves nothing behind", async (t) => {
    if (!ok(t, suite)) return;
    const dir = context(suite, 'failing', 'FROM BASE\nRUN python3 -m pip install --break-system-packages no-such-project\n');
    const before = leftovers(suite);
    const naiveDir = context(suite, 'failing-naive', 'FROM BASE\nRUN python3 -m pip install --index-url file:///nowhere no-such-project\n');
    const naive = run(suite, ['build', '--network', 'none', '--layers=false', naiveDir]);
    const result = await build(suite, ['--mirror', suite.mirror, '--offline', '--layers=false', dir]);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /\(network none\)/, 'no loopback index: network none');
    assert.equal(result.status, naive.status, `the exit code is ${suite.engine} build's: ${naive.stderr}`);
    assert.match(result.stdout + result.stderr, /No matching distribution found for no-such-project/);
    assert.deepEqual(leftovers(suite), before);
    assert.deepEqual(newWorkDirs(), []);
  });

  test("SIGINT during a RUN cancels the build: the engine's exit code, the RUN killed, no temp dirs, containers, bundles or mounts left", async (t) => {
    if (!ok(t, suite)) return;
    // A token of this run only: other builds on this machine may leave bundles of their own in /var/tmp.
    const token = `interrupted-${randomBytes(6).toString('hex')}`;
    const dir = context(suite, 'interrupted', `FROM BASE\nRUN echo ${token}-$(echo 4 2 | tr -d " "); sleep 60\n`);
    const before = leftovers(suite);
    const child = spawn(process.execPath, ['--', BIN, suite.engine, 'build', '--mirror', suite.mirror, '--offline', '--layers=false', dir], {
      env: suite.env,
      cwd: suite.work,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const started = new Promise<void>((resolve) => {
      const seen = (chunk: string) => {
        output += chunk;
        if (output.includes(`${token}-42`)) resolve();
      };
      child.stdout.setEncoding('utf8').on('data', seen);
      child.stderr.setEncoding('utf8').on('data', seen);
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await started;
    const t0 = Date.now();
    child.kill('SIGINT');
    const code = await exited;
    assert.ok(Date.now() - t0 < 20_000, `cancelled promptly (${Date.now() - t0} ms)`);
    // buildah 1.28's RUN helper kills the container (SIGKILL) and exits 1: the RUN fails, and so does the build.
    assert.equal(code, 1, output);
    assert.match(output, /container exited on killed/);
    assert.deepEqual(newWorkDirs(), []);
    assert.deepEqual(leftovers(suite), before, 'no working container left');
    assert.deepEqual(processesWith(token), [], 'the RUN is not running any more');
    assert.deepEqual(bundlesWith(token), [], 'no runtime bundle left in /var/tmp');
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
    assert.equal(mounts.includes(suite.storage), false, 'nothing of the storage mounted');
  });

  test('bad input: exit 2 and one line; an engine that cannot run: exit 1 and one line naming it', async (t) => {
    if (!ok(t, suite)) return;
    for (const args of [
      [join(suite.work, 'nowhere')],
      [],
      ['-f', join(suite.work, 'none.Dockerfile'), suite.work],
      ['-'],
      ['--retries', 'x', suite.work],
      ['-qt', 'x', suite.work],
      ['--mirror', join(suite.work, 'no-mirror'), suite.work],
      ['git://example.invalid/repo'],
      ['--lock', join(suite.work, 'requirements.lock'), suite.work],
    ]) {
      const result = await build(suite, ['--offline', ...args]);
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /(^|\n)dib-pypi: error: [^\n]+\n$/, args.join(' '));
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    }
    const dir = context(suite, 'engine-missing', 'FROM BASE\nRUN true\n');
    const variable = `DIB_PYPI_${suite.engine.toUpperCase()}`;
    const missing = await runCliAsync([suite.engine, 'build', '--offline', dir], {
      env: { ...suite.env, [variable]: join(suite.work, 'no-engine') },
      cwd: suite.work,
    });
    assert.equal(missing.status, 1, missing.stderr);
    assert.match(missing.stderr, new RegExp(`(^|\\n)dib-pypi: error: cannot run \\S*no-engine: ENOENT \\(set ${variable} [^\\n]+\\n$`));
  });

  lockCases(suite);
}
