// `dib-pypi docker build` with the real engine and BuildKit: offline builds from the mirror, and no trace of it in the image.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { spawn } from 'node:child_process';
import { BIN, runCliAsync } from '../../helpers/cli.js';
import { docker, dockerOk, dockerSuite, engineLeftovers, saveImage, tempDirWatch, tracesIn } from '../../helpers/docker.js';
import { need } from '../../helpers/require.js';
import { mirrorImageTag } from '../../../src/targets/mirror-image.js';

const TOKEN = 'token-PLANTED-7f3a9c';
const SECRET_PATH = '127.0.0.1:9/dib-secret-index';
const SECRET_URL = `http://dibuser:${TOKEN}@${SECRET_PATH}/`;
// The mirror as imported by dib-pypi goes too.
const suite = dockerSuite('dib-pypi-docker-build-test-', ({ mirror }) => [mirrorImageTag(mirror)]);
const newBuildDirs = tempDirWatch('dib-pypi-build-');
const { problem, env, images } = suite;

function build(args: string[]) {
  return runCliAsync(['docker', 'build', ...args], { env, cwd: suite.work });
}

function context(name: string, dockerfile: string, file = 'Dockerfile'): string {
  const dir = join(suite.work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, file), dockerfile.replaceAll('BASE', suite.base));
  return dir;
}

function tagged(name: string): string {
  const tag = `dib-pypi-test-build:${name}`;
  images.push(tag);
  return tag;
}

describe('dib-pypi docker build', { skip: suite.skip }, () => {
  test('offline build: the package and its dependency install from the mirror; the image holds no pip.conf, URL or credential', async (t) => {
    if (!need(t, problem === undefined, problem ?? '')) return;
    const dockerfile = `FROM BASE
ARG PKG=none
RUN python3 -m pip install --break-system-packages "$PKG" \\
    # a comment inside the instruction
    && python3 -c "import dib_app; assert dib_app.VALUE == 42"
RUN ["python3", "-c", "import dib_dep; print('dep', dib_dep.VALUE)"]
`;
    const dir = context('single', dockerfile, 'app.Dockerfile');
    const tag = tagged('single');
    const before = engineLeftovers();
    const result = await build([
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
      join(dir, 'app.Dockerfile'),
      '--build-arg',
      'PKG=dib-app',
      '--network',
      'none',
      '--no-cache',
      '--progress',
      'plain',
      dir,
    ]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /dep 41/, 'the exec-form RUN ran');
    assert.equal(readFileSync(join(dir, 'app.Dockerfile'), 'utf8'), dockerfile.replaceAll('BASE', suite.base), 'the Dockerfile is unchanged');
    assert.doesNotMatch(result.stdout + result.stderr, new RegExp(TOKEN), 'the token is never printed');
    assert.equal(dockerOk(['run', '--rm', '--network', 'none', tag, 'python3', '-c', 'import dib_app; print(dib_app.VALUE)']).trim(), '42');

    const saved = saveImage(tag, suite.base);
    assert.deepEqual(tracesIn(saved, [TOKEN, 'dibuser', SECRET_PATH, 'file:///tmp/pypi', 'dib-pypi-pip-conf', 'dib-pypi-mirror']), []);
    assert.deepEqual(
      saved.newLayerEntries.filter((e) => /pip\.conf|pydistutils|\.cache\/pip|tmp\/pypi\/./.test(e)),
      [],
    );
    assert.equal(saved.config.config.Env?.some((e) => /PIP_|pypi/i.test(e)) ?? false, false);
    assert.equal(saved.config.config.Labels ?? null, null, 'no labels');
    assert.doesNotMatch(saved.historyText, /--mount|pip\.conf/);
    assert.deepEqual(engineLeftovers(), before, 'no containers or dangling images left');
    assert.deepEqual(newBuildDirs(), []);
  });

  test('multi-stage: every stage gets the mirror; --target picks the stage; the network is none by default', async (t) => {
    if (!need(t, problem === undefined, problem ?? '')) return;
    const dir = context(
      'multi',
      `FROM BASE AS builder
RUN python3 -m pip install --target /out dib-app
run python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9/', timeout=2)" 2>/dev/null && exit 9 || true

FROM BASE AS final
COPY --from=builder /out /opt/app
RUN python3 -m pip install --break-system-packages dib-dep && PYTHONPATH=/opt/app python3 -c "import dib_app"

FROM final AS unused
RUN exit 3
`,
    );
    const tag = tagged('multi');
    const result = await build(['--mirror', suite.mirror, '--offline', '--target', 'final', '-t', tag, '--progress=plain', dir]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /network none/);
    assert.equal(
      dockerOk(['run', '--rm', '--network', 'none', '-e', 'PYTHONPATH=/opt/app', tag, 'python3', '-c', 'import dib_app, dib_dep; print(dib_app.VALUE)']).trim(),
      '42',
    );
    const saved = saveImage(tag, suite.base);
    assert.deepEqual(tracesIn(saved, ['file:///tmp/pypi', 'dib-pypi-mirror']), []);
    assert.deepEqual(
      saved.newLayerEntries.filter((e) => /pip\.conf|tmp\/pypi\/./.test(e)),
      [],
    );
  });

  test("a failing pip install fails the build with docker build's exit code and leaves nothing behind", async (t) => {
    if (!need(t, problem === undefined, problem ?? '')) return;
    const dir = context('failing', 'FROM BASE\nRUN python3 -m pip install --break-system-packages no-such-project\n');
    const before = engineLeftovers();
    const naive = docker(['build', '--network', 'none', '-q', '-f', '-', dir], readFileSync(join(dir, 'Dockerfile'), 'utf8').replace('RUN', 'RUN exit 1 ||'));
    const result = await build(['--mirror', suite.mirror, '--offline', '--progress=plain', dir]);
    assert.notEqual(result.status, 0);
    assert.equal(result.status, naive.status, "the exit code is docker build's");
    assert.match(result.stderr, /No matching distribution found for no-such-project/);
    assert.deepEqual(engineLeftovers(), before);
    assert.deepEqual(newBuildDirs(), []);
  });

  test("SIGINT during a RUN cancels the build: docker's exit code, no temp files, containers or dangling images left", async (t) => {
    if (!need(t, problem === undefined, problem ?? '')) return;
    const dir = context('interrupted', 'FROM BASE\nRUN echo step-started-$(echo 4 2 | tr -d " "); sleep 60\n');
    const before = engineLeftovers();
    const child = spawn(process.execPath, ['--', BIN, 'docker', 'build', '--mirror', suite.mirror, '--offline', '--no-cache', '--progress=plain', dir], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const started = new Promise<void>((resolve) =>
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        if (/step-started-42/.test(stderr)) resolve();
      }),
    );
    child.stdout.resume();
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await started;
    const t0 = Date.now();
    child.kill('SIGINT');
    const code = await exited;
    assert.ok(Date.now() - t0 < 20_000, `cancelled promptly (${Date.now() - t0} ms)`);
    assert.notEqual(code, 0, stderr);
    assert.deepEqual(newBuildDirs(), []);
    assert.deepEqual(engineLeftovers(), before);
  });

  test('bad input: a context that is not a directory, no context, a missing Dockerfile: exit 2, one line', async (t) => {
    if (!need(t, problem === undefined, problem ?? '')) return;
    for (const args of [
      [join(suite.work, 'nowhere')],
      [],
      ['-f', join(suite.work, 'none.Dockerfile'), suite.work],
      ['-'],
      ['--retries', 'x', suite.work],
      ['-qt', 'x', suite.work],
    ]) {
      const result = await build(['--offline', ...args]);
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /(^|\n)dib-pypi: error: [^\n]+\n$/, args.join(' '));
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    }
  });
});
