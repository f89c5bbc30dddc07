// The pure parts of the docker targets: Dockerfile rewriting, argument splitting, network choice, image references, mount stubs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildPlan } from '../../../src/plan/build-plan.js';
import { renderPipConf } from '../../../src/inject/render-pip-conf.js';
import { addRunMounts, baseImagesOf, parserDirectives } from '../../../src/targets/dockerfile-mounts.js';
import { pipEnvWarnings } from '../../../src/targets/image-pip-env.js';
import { splitBuildArgs } from '../../../src/targets/docker-build-args.js';
import { chooseNetwork } from '../../../src/targets/build-network.js';
import { checkCommitRef, splitImageRef } from '../../../src/targets/container-runner.js';
import { findMountStubs, writableLayerDir } from '../../../src/targets/mount-stubs.js';
import { UsageError } from '../../../src/errors.js';
import { checkBuildKit } from '../../../src/targets/docker-cli.js';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const M = ['--mount=a', '--mount=b'];

test('addRunMounts: every RUN instruction, whatever its case, form or continuation; nothing else', () => {
  const input = [
    '# syntax=docker/dockerfile:1',
    '# escape=\\',
    'FROM base AS one',
    'RUN pip install x \\',
    '    # RUN in a comment inside the instruction',
    '',
    '    && echo RUN not an instruction',
    'run ["python3", "-c", "print(1)"]',
    '  RUN\\',
    '  echo continued',
    'ENV RUN=1',
    'RUNNER=1',
    '# RUN commented out',
    'ONBUILD RUN pip install y',
    'COPY --from=one / /',
    'RUN --network=none echo flags kept',
  ].join('\n');
  const out = addRunMounts(input, M);
  assert.equal(
    out.text,
    [
      '# syntax=docker/dockerfile:1',
      '# escape=\\',
      'FROM base AS one',
      'RUN --mount=a --mount=b pip install x \\',
      '    # RUN in a comment inside the instruction',
      '',
      '    && echo RUN not an instruction',
      'run --mount=a --mount=b ["python3", "-c", "print(1)"]',
      '  RUN --mount=a --mount=b\\',
      '  echo continued',
      'ENV RUN=1',
      'RUNNER=1',
      '# RUN commented out',
      'ONBUILD RUN pip install y',
      'COPY --from=one / /',
      'RUN --mount=a --mount=b --network=none echo flags kept',
    ].join('\n'),
  );
  assert.equal(out.runs, 4);
  assert.equal(out.onbuildRuns, 1);
  assert.equal(out.syntax, 'docker/dockerfile:1');
});

test('addRunMounts: the backtick escape directive changes what continues a line', () => {
  const input = '# escape=`\nFROM x\nRUN echo a `\n  RUN not-an-instruction\nRUN echo b \\\nRUN echo c\n';
  const out = addRunMounts(input, ['--mount=z']);
  assert.equal(out.text, '# escape=`\nFROM x\nRUN --mount=z echo a `\n  RUN not-an-instruction\nRUN --mount=z echo b \\\nRUN --mount=z echo c\n');
  assert.equal(out.runs, 3);
});

test('parserDirectives: only at the top, each once', () => {
  assert.deepEqual(
    [...parserDirectives(['# escape=`', '# syntax = x', 'FROM a', '# escape=\\'])],
    [
      ['escape', '`'],
      ['syntax', 'x'],
    ],
  );
  assert.deepEqual([...parserDirectives(['FROM a', '# escape=`'])], []);
  assert.deepEqual([...parserDirectives(['# escape=`', '# escape=\\'])], [['escape', '`']]);
});

test("splitBuildArgs: our flags out, docker build's through in order, -f and the context apart", () => {
  const split = splitBuildArgs([
    '--mirror',
    '/m',
    '-t',
    'a:b',
    '--mirror-url=file:///tmp/pypi',
    '--build-arg',
    'X=1',
    '--no-cache',
    '-f',
    'x.Dockerfile',
    '--offline',
    '--target=final',
    '-tother',
    '--retries',
    '3',
    '--network',
    'host',
    '--env-file',
    '.env.ci',
    '--no-pypi',
    'ctx',
  ]);
  assert.deepEqual(split, {
    own: { mirror: '/m', mirrorUrl: ['file:///tmp/pypi'], offline: true, noPypi: true, retries: '3', envFile: '.env.ci' },
    docker: ['-t', 'a:b', '--build-arg', 'X=1', '--no-cache', '--target=final', '-t', 'other', '--network', 'host'],
    file: 'x.Dockerfile',
    context: 'ctx',
    network: 'host',
  });
  assert.equal(splitBuildArgs(['--file=-', '.']).file, '-');
  assert.equal(splitBuildArgs(['--', '-dir']).context, '-dir');
});

test('splitBuildArgs: bad input is a usage error naming the problem', () => {
  const cases: [string[], RegExp][] = [
    [[], /one build context.*none/],
    [['a', 'b'], /one build context.*"a" "b"/],
    [['-'], /local directory/],
    [['https://example.invalid/repo.git'], /local directory/],
    [['-t'], /-t needs a value/],
    [['--offline=yes', '.'], /--offline takes no value/],
    [['-qt', 'x', '.'], /combined short option/],
  ];
  for (const [args, message] of cases) {
    assert.throws(
      () => splitBuildArgs(args),
      (error: unknown) => error instanceof UsageError && message.test(error.message),
      args.join(' '),
    );
  }
});

function plan(urls: string[], extra: { offline?: boolean } = {}) {
  return buildPlan({ flags: { mirrorUrls: urls, offline: extra.offline ?? true }, env: {}, dotenv: {} });
}

test('chooseNetwork: none for file:// mirrors, host for loopback indexes, a warning for anything else', () => {
  assert.deepEqual(chooseNetwork(plan(['file:///tmp/pypi'])), { network: 'none', warnings: [] });
  assert.deepEqual(chooseNetwork(plan(['http://127.0.0.1:8080/simple', 'http://[::1]:81/', 'http://localhost/'])), { network: 'host', warnings: [] });
  const open = chooseNetwork(plan(['file:///tmp/pypi'], { offline: false }));
  assert.equal(open.network, 'none');
  assert.match(open.warnings[0] ?? '', /https:\/\/pypi\.org\/simple is out of reach/);
  const secret = chooseNetwork(plan(['https://user:tok3n@mirror.example.invalid/simple']));
  assert.doesNotMatch(secret.warnings.join('\n'), /tok3n/);
});

test('renderPipConf for containers: no cache and no version check, its own header', () => {
  const text = renderPipConf(plan(['file:///tmp/pypi']), { forContainer: true });
  assert.equal(
    text,
    '# Mounted by dib-pypi for this step only; it is not part of the image.\n[global]\nindex-url = file:///tmp/pypi\nno-cache-dir = true\ndisable-pip-version-check = true\n',
  );
});

test('splitImageRef and checkCommitRef', () => {
  assert.deepEqual(splitImageRef('img'), { repo: 'img', tag: 'latest' });
  assert.deepEqual(splitImageRef('img:v1'), { repo: 'img', tag: 'v1' });
  assert.deepEqual(splitImageRef('registry:5000/team/img'), { repo: 'registry:5000/team/img', tag: 'latest' });
  assert.deepEqual(splitImageRef('registry:5000/img:v2'), { repo: 'registry:5000/img', tag: 'v2' });
  for (const ok of ['img', 'img:v1', 'a/b/c:1.0-x', 'localhost:5000/img:v2', 'my_img.x']) assert.doesNotThrow(() => checkCommitRef(ok), ok);
  for (const bad of ['BAD TAG', 'Img', 'img:', 'img:-x', '', 'a//b']) assert.throws(() => checkCommitRef(bad), UsageError, bad);
});

test('findMountStubs: the first missing component of each destination, once', async () => {
  const image = new Set(['/', '/etc', '/tmp', '/usr']);
  const exists = async (path: string) => image.has(path);
  assert.deepEqual(await findMountStubs(['/etc/pip.conf', '/tmp/pypi', '/etc/xdg/pip/pip.conf', '/etc/xdg/other', '/usr'], exists), [
    { path: '/etc/pip.conf', parent: '/etc' },
    { path: '/tmp/pypi', parent: '/tmp' },
    { path: '/etc/xdg', parent: '/etc' },
  ]);
});

test('baseImagesOf: images, not stage names, scratch or ARG references', () => {
  const text = 'ARG V=1\nFROM --platform=linux/amd64 debian:12 AS Build\nFROM build AS two\nfrom python:3.12\nFROM scratch\nFROM img:$V\nFROM debian:12\n';
  assert.deepEqual(baseImagesOf(text), ['debian:12', 'python:3.12']);
});

test('pipEnvWarnings: the index-steering PIP_* variables, by name only', () => {
  const warnings = pipEnvWarnings('img', ['PATH=/usr/bin', 'PIP_INDEX_URL=https://u:secret@x/simple', 'PIP_NO_CACHE_DIR=1', 'pip_find_links=/w']);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0] ?? '', /^img sets PIP_INDEX_URL in its config/);
  assert.match(warnings[1] ?? '', /pip_find_links/);
  assert.doesNotMatch(warnings.join('\n'), /secret/);
});

test('checkBuildKit: a docker 23+ CLI without buildx gets one line naming the two remedies that exist', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dib-pypi-fake-docker-'));
  try {
    const docker = join(dir, 'docker');
    // A docker 28 CLI that answers `version` and has no buildx plugin.
    writeFileSync(
      docker,
      '#!/bin/sh\nif [ "$1" = version ]; then echo \'{"Client":{"Version":"28.1.1"},"Server":{"Version":"28.1.1"}}\'; exit 0; fi\necho "docker: \'$1\' is not a docker command." >&2; exit 1\n',
    );
    chmodSync(docker, 0o755);
    assert.throws(
      () => checkBuildKit(docker, { PATH: process.env.PATH ?? '' }),
      (error: Error) => {
        assert.equal(
          error.message,
          `${docker} 28.1.1 builds with BuildKit only through the buildx plugin, which it does not find ('${docker} buildx version' fails): give this docker CLI the buildx plugin, or set DIB_PYPI_DOCKER to a docker CLI with BuildKit built in (Docker 20.10-22.x)`,
        );
        assert.doesNotMatch(error.message, /install docker-buildx|DOCKER_BUILDKIT|classic builder/);
        return true;
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writableLayerDir finds the layer of vfs and overlay2 storage, and nothing for other drivers or a forged mount id', () => {
  const root = mkdtempSync(join(tmpdir(), 'dib-pypi-layer-'));
  try {
    const id = 'c'.repeat(64);
    mkdirSync(join(root, 'image/vfs/layerdb/mounts', id), { recursive: true });
    writeFileSync(join(root, 'image/vfs/layerdb/mounts', id, 'mount-id'), 'abc123\n');
    mkdirSync(join(root, 'vfs/dir/abc123'), { recursive: true });
    assert.equal(writableLayerDir({ driver: 'vfs', data: null, dockerRoot: root, containerId: id }), join(root, 'vfs/dir/abc123'));
    writeFileSync(join(root, 'image/vfs/layerdb/mounts', id, 'mount-id'), '../../etc\n');
    assert.equal(writableLayerDir({ driver: 'vfs', data: null, dockerRoot: root, containerId: id }), undefined);
    assert.equal(writableLayerDir({ driver: 'vfs', data: null, dockerRoot: root, containerId: 'd'.repeat(64) }), undefined);

    const upper = join(root, 'overlay2/xyz/diff');
    mkdirSync(upper, { recursive: true });
    assert.equal(writableLayerDir({ driver: 'overlay2', data: { UpperDir: upper }, dockerRoot: root, containerId: id }), upper);
    assert.equal(writableLayerDir({ driver: 'overlay2', data: { UpperDir: join(root, 'gone/diff') }, dockerRoot: root, containerId: id }), undefined);
    assert.equal(writableLayerDir({ driver: 'overlay2', data: null, dockerRoot: root, containerId: id }), undefined);
    assert.equal(writableLayerDir({ driver: 'btrfs', data: null, dockerRoot: root, containerId: id }), undefined);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
