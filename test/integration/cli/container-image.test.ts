// The Dockerfile's image with the real Docker engine, offline: built from the packed package, it
// serves a volume as a pull-through cache and an upload index to real pip and twine, as a user
// that is not root; uploads and cached files survive a restart of the container.
//
// No image can be pulled here, so the default base (node:20-slim) is stood in for by the cached
// debootstrapped bookworm root with this machine's own Node.js 20 (binary and npm) copied in,
// tagged node:20-slim when no such image exists (an existing one that is not ours is used as it is).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { copyFileSync, cpSync, mkdirSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { runCli } from '../../helpers/cli.js';
import { baseImage, docker, dockerOk, dockerProblem } from '../../helpers/docker.js';
import { makeWheel } from '../../helpers/make-dist.js';
import { envWithoutPip, makeTempDir } from '../../helpers/python.js';
import { hasCommand, need } from '../../helpers/require.js';
import { startServe } from '../../helpers/serve.js';
import { freePort } from '../../helpers/ports.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const STAND_IN = 'node:20-slim';
const STAND_IN_LABEL = 'org.dib-pypi.test-stand-in';
const IMAGE = 'dib-pypi-test-serve:latest';
const TOKEN = 'container-upload-token';

function canRun(t: TestContext): boolean {
  const problem = dockerProblem() ?? (!hasCommand('twine') ? "twine is missing: install Debian's twine" : undefined);
  return need(t, problem === undefined, problem ?? '');
}

/** The stand-in for node:20-slim: bookworm plus this machine's node and npm (see the header). */
async function standInBase(work: string): Promise<void> {
  const existing = docker(['image', 'inspect', '--format', `{{index .Config.Labels "${STAND_IN_LABEL}"}}`, STAND_IN]);
  if (existing.status === 0 && existing.stdout.trim() !== '1') return; // a real node:20-slim: use it
  const bookworm = await baseImage();
  const context = join(work, 'base');
  mkdirSync(context);
  copyFileSync(process.execPath, join(context, 'node'));
  const npmDir = join(dirname(realpathSync(process.execPath)), '../lib/node_modules/npm');
  cpSync(npmDir, join(context, 'npm'), { recursive: true });
  writeFileSync(
    join(context, 'Dockerfile'),
    [
      `FROM ${bookworm}`,
      `LABEL ${STAND_IN_LABEL}=1`,
      'COPY node /usr/local/bin/node',
      'COPY npm /usr/local/lib/node_modules/npm',
      'RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx && node --version',
      '',
    ].join('\n'),
  );
  dockerOk(['build', '--network', 'none', '-t', STAND_IN, context]);
}

/** Resolves once `check()` holds; fails with `message()` after `timeoutMs`. */
async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, message: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(message());
    await sleep(250);
  }
}

async function health(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}health`)).ok;
  } catch {
    return false;
  }
}

async function pipInstall(index: string, target: string, project: string) {
  return execa(
    'python3',
    ['-m', 'pip', 'install', '--no-cache-dir', '--disable-pip-version-check', '--index-url', `${index}simple/`, '--target', target, project],
    {
      env: envWithoutPip(process.env),
      extendEnv: false,
      reject: false,
      all: true,
    },
  );
}

async function twineUpload(url: string, file: string) {
  const env: Record<string, string> = { ...envWithoutPip(process.env), PYTHON_KEYRING_BACKEND: 'keyring.backends.null.Keyring' };
  for (const name of Object.keys(env)) if (name.startsWith('TWINE_')) delete env[name];
  return execa('twine', ['upload', '--non-interactive', '--disable-progress-bar', '--repository-url', url, '-u', '__token__', '-p', TOKEN, file], {
    env,
    extendEnv: false,
    reject: false,
    all: true,
  });
}

test('container image: offline build, pip and twine through a volume as a non-root user, data kept across a restart', { timeout: 15 * 60_000 }, async (t) => {
  if (!canRun(t)) return;
  await using work = makeTempDir('dib-pypi-container-');
  await standInBase(work.path);

  // The image, built with no network from the packed package (what `npm pack` gives a user).
  const context = join(work.path, 'context');
  mkdirSync(context);
  execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', context], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
  assert.equal(readdirSync(context).filter((name) => /^dib-pypi-.*\.tgz$/.test(name)).length, 1);
  copyFileSync(join(REPO, 'Dockerfile'), join(context, 'Dockerfile'));
  const built = docker(['build', '--network', 'none', '-t', IMAGE, context]);
  assert.equal(built.status, 0, built.stderr);
  const name = `dib-pypi-test-serve-${process.pid}`;
  const volume = `dib-pypi-test-${process.pid}`;
  // The container before its image and volume: an image still in use would only lose its tag and stay.
  t.after(() => {
    docker(['rm', '-f', name]);
    docker(['volume', 'rm', '-f', volume]);
    docker(['image', 'rm', '-f', IMAGE]);
  });

  const user = dockerOk(['image', 'inspect', '--format', '{{.Config.User}}', IMAGE]).trim();
  assert.equal(user, 'dib-pypi:dib-pypi');

  // An upstream on the host's loopback, reached through host networking.
  const upstreamDir = join(work.path, 'upstream');
  mkdirSync(upstreamDir);
  await makeWheel(upstreamDir, { name: 'box-dep', version: '1.0' });
  await makeWheel(upstreamDir, { name: 'box-app', version: '1.0', requires: ['box-dep>=1'] });
  assert.equal(runCli(['mirror', 'index', upstreamDir]).status, 0);
  const upstream = await startServe([upstreamDir, '--workers', '1']);
  t.after(() => upstream.stop());

  dockerOk(['volume', 'create', volume]);
  const port = await freePort();
  const run = dockerOk([
    'run',
    '-d',
    '--name',
    name,
    '--network',
    'host',
    '--health-interval',
    '1s',
    '--health-start-period',
    '1s',
    '-v',
    `${volume}:/srv/pypi`,
    '-e',
    `DIB_PYPI_UPLOAD_TOKEN=${TOKEN}`,
    // Configured as the README shows: by variables, with the image's own command.
    '-e',
    'DIB_PYPI_SERVE_HOST=127.0.0.1',
    '-e',
    `DIB_PYPI_SERVE_PORT=${port}`,
    '-e',
    `DIB_PYPI_SERVE_UPSTREAM=${upstream.url}simple/`,
    IMAGE,
  ]).trim();
  const url = `http://127.0.0.1:${port}/`;
  const logs = () => docker(['logs', run]).stdout + docker(['logs', run]).stderr;
  await until(
    () => health(url),
    60_000,
    () => `the container did not answer /health:\n${logs()}`,
  );

  // Not root: the serving process's real and effective uid.
  const status = dockerOk(['exec', run, 'cat', '/proc/1/status']);
  const uids = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
  assert.ok(uids !== null && uids[1] !== '0' && uids[2] !== '0', status);

  // pip through the cache, twine into the index.
  const target = join(work.path, 'target');
  const installed = await pipInstall(url, target, 'box-app');
  assert.equal(installed.exitCode, 0, installed.all);
  const ownDir = join(work.path, 'own');
  mkdirSync(ownDir);
  const own = await makeWheel(ownDir, { name: 'box-private', version: '2.0' });
  const uploaded = await twineUpload(url, own);
  assert.equal(uploaded.exitCode, 0, uploaded.all);
  await until(
    () => docker(['inspect', '--format', '{{.State.Health.Status}}', run]).stdout.trim() === 'healthy',
    60_000,
    () => `HEALTHCHECK never passed:\n${logs()}`,
  );

  // Restart with the upstream gone: the volume still holds the upload and the cached files.
  await upstream.stop();
  dockerOk(['restart', '--time', '10', run]);
  await until(
    () => health(url),
    60_000,
    () => `the restarted container did not answer /health:\n${logs()}`,
  );
  const again = await pipInstall(url, join(work.path, 'target2'), 'box-app');
  assert.equal(again.exitCode, 0, again.all);
  const privateOne = await pipInstall(url, join(work.path, 'target3'), 'box-private');
  assert.equal(privateOne.exitCode, 0, privateOne.all);
  const files = dockerOk(['exec', run, 'sh', '-c', 'ls /srv/pypi/box-app /srv/pypi/box-dep /srv/pypi/box-private']);
  for (const file of ['box_app-1.0-py3-none-any.whl', 'box_dep-1.0-py3-none-any.whl', 'box_private-2.0-py3-none-any.whl'])
    assert.match(files, new RegExp(file.replace(/\./g, '\\.')));
  const owners = dockerOk(['exec', run, 'stat', '-c', '%u', '/srv/pypi/box-private/box_private-2.0-py3-none-any.whl']).trim();
  assert.equal(owners, '10001');
});
