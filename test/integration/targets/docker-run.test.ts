// `dib-pypi docker run` with the real engine (dockerode): a step with the mirror and pip.conf mounted, committed without them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { BIN, runCliAsync } from '../../helpers/cli.js';
import { docker, dockerOk, dockerSuite, engineLeftovers, saveImage, tracesIn } from '../../helpers/docker.js';
import { need } from '../../helpers/require.js';

const TOKEN = 'token-PLANTED-run-51b2';
const SECRET_PATH = '127.0.0.1:9/dib-secret-run-index';
const suite = dockerSuite('dib-pypi-docker-run-test-');
const { problem, env, images } = suite;

function run(args: string[]) {
  return runCliAsync(['docker', 'run', ...args], { env, cwd: suite.work });
}

describe('dib-pypi docker run', { skip: suite.skip }, () => {
  test('--commit: pip installs from the mounted mirror offline; the image has the package and no mount, pip.conf, URL or credential', async (t) => {
    if (!need(t, problem === undefined, problem ?? '')) return;
    const tag = 'dib-pypi-test-run:committed';
    images.push(tag);
    const before = engineLeftovers();
    const result = await run([
      suite.base,
      '--mirror',
      suite.mirror,
      '--commit',
      tag,
      '--mirror-url',
      'file:///tmp/pypi',
      '--mirror-url',
      `http://dibuser:${TOKEN}@${SECRET_PATH}/`,
      '--offline',
      '--retries',
      '0',
      '--',
      'sh',
      '-c',
      'cat /etc/pip.conf >&2; python3 -m pip install --break-system-packages dib-app && echo installed-ok',
    ]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /installed-ok/, 'stdout streamed');
    assert.match(result.stderr, /index-url = file:\/\/\/tmp\/pypi/, 'pip.conf mounted (stderr streamed)');
    assert.doesNotMatch(
      result.stderr
        .split('\n')
        .filter((l) => l.startsWith('dib-pypi'))
        .join('\n'),
      new RegExp(TOKEN),
    );
    assert.equal(dockerOk(['run', '--rm', '--network', 'none', tag, 'python3', '-c', 'import dib_app; print(dib_app.VALUE)']).trim(), '42');

    const saved = saveImage(tag, suite.base);
    assert.deepEqual(tracesIn(saved, [TOKEN, 'dibuser', SECRET_PATH, 'file:///tmp/pypi']), []);
    assert.deepEqual(
      saved.newLayerEntries.filter((e) => /pip\.conf|tmp\/pypi|\.cache\/pip/.test(e)),
      [],
      'no mount point and no pip.conf in the layer',
    );
    assert.ok(
      saved.newLayerEntries.some((e) => /dib_app\/__init__\.py$/.test(e)),
      'the package is in the layer',
    );
    assert.ok(!saved.newLayerEntries.some((e) => / etc\/$/.test(e)), '/etc is not in the layer: its mtime was given back');
    assert.equal(saved.config.config.Env?.some((e) => /PIP_|pypi/i.test(e)) ?? false, false, 'no pip variable in the config');
    assert.deepEqual(engineLeftovers(), before, 'the container is removed');
  });

  test("CMD's exit code is ours and the container is removed; no commit when CMD fails", async (t) => {
    if (!need(t, problem === undefined, problem ?? '')) return;
    const before = engineLeftovers();
    const tag = 'dib-pypi-test-run:never';
    const result = await run([
      suite.base,
      '--mirror',
      suite.mirror,
      '--offline',
      '--commit',
      tag,
      '--',
      'sh',
      '-c',
      'python3 -m pip install --break-system-packages no-such-project; exit 7',
    ]);
    assert.equal(result.status, 7, result.stderr);
    assert.match(result.stderr, /No matching distribution found for no-such-project/);
    assert.notEqual(docker(['image', 'inspect', tag]).status, 0, 'nothing committed');
    assert.deepEqual(engineLeftovers(), before);
  });

  test("--json: one object on stdout (command, exit code, container, network, mounts, commit, removed); CMD's output on stderr", async (t) => {
    if (!need(t, problem === undefined, problem ?? '')) return;
    const before = engineLeftovers();
    const tag = 'dib-pypi-test-run:json';
    images.push(tag);
    const result = await run([
      suite.base,
      '--mirror',
      suite.mirror,
      '--offline',
      '--commit',
      tag,
      '--mirror-url',
      `http://dibuser:${TOKEN}@127.0.0.1:9/simple/`,
      '--json',
      '--',
      'sh',
      '-c',
      'echo from-cmd',
    ]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /^from-cmd$/m);
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    assert.match(String(report.container), /^[0-9a-f]{64}$/);
    assert.match(String(report.imageId), /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(
      { ...report, container: 'ID', imageId: 'ID' },
      {
        command: ['sh', '-c', 'echo from-cmd'],
        image: suite.base,
        exitCode: 0,
        network: 'host',
        container: 'ID',
        mounts: [
          { target: '/etc/pip.conf', readOnly: true },
          { target: '/tmp/pypi', source: suite.mirror, readOnly: true },
        ],
        committed: tag,
        imageId: 'ID',
        removed: true,
      },
    );
    assert.ok(!result.stdout.includes(TOKEN) && !result.stderr.includes(TOKEN), 'a credential was printed');
    assert.deepEqual(engineLeftovers(), before, 'the container is removed');

    const failing = await run([suite.base, '--offline', '--json', '--', 'sh', '-c', 'exit 5']);
    assert.equal(failing.status, 5, failing.stderr);
    const failed = JSON.parse(failing.stdout) as { exitCode: number; removed: boolean; committed?: string; network: string };
    assert.equal(failed.exitCode, 5);
    assert.equal(failed.removed, true);
    assert.equal(failed.committed, undefined);
    assert.equal(failed.network, 'none');
  });

  test('SIGINT during the step stops and removes the container', async (t) => {
    if (!need(t, problem === undefined, problem ?? '')) return;
    const before = engineLeftovers();
    const child = spawn(
      process.execPath,
      ['--', BIN, 'docker', 'run', suite.base, '--mirror', suite.mirror, '--offline', '--', 'sh', '-c', 'echo step-started; exec sleep 60'],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const started = new Promise<void>((resolve) =>
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        if (stdout.includes('step-started')) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await started;
    assert.equal(engineLeftovers().containers.length, before.containers.length + 1, 'the step runs in a container');
    const t0 = Date.now();
    child.kill('SIGINT');
    const code = await exited;
    // Well under the step's 60 s sleep; a loaded machine with vfs storage takes seconds to remove a container.
    assert.ok(Date.now() - t0 < 30_000, 'stopped promptly');
    assert.notEqual(code, 0, stderr);
    assert.deepEqual(engineLeftovers(), before, 'the container is removed');
  });

  test('bad input: unknown image, missing command: exit 2, one line', async (t) => {
    if (!need(t, problem === undefined, problem ?? '')) return;
    for (const args of [
      ['dib-pypi-test-run:no-such-image', '--offline', '--', 'true'],
      [suite.base, '--offline'],
    ]) {
      const result = await run(args);
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /(^|\n)dib-pypi: error: [^\n]+\n$/);
    }
  });
});
