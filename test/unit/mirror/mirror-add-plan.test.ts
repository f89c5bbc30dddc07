// planAdd, buildTargets and the pip argv of `mirror add`: one row per case, exact output.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../../src/errors.js';
import { COMMANDS } from '../../../src/cli/commands.js';
import { withFlagNames } from '../../../src/cli/input-errors.js';
import { buildTargets, downloadArgv, indexUrlArg, planAdd, pythonMinorVersion, wheelArgv, type AddInput } from '../../../src/mirror/add/add-plan.js';

const BASE: AddInput = {
  dir: 'mirror',
  requirementFiles: [],
  requirements: ['demo'],
  python: 'python3',
  extraIndexUrls: [],
  findLinks: [],
  trustedHosts: [],
  noIndex: false,
  pythonVersions: [],
  platforms: [],
  abis: [],
  onlyBinary: [],
  noBinary: [],
  buildWheels: false,
  noBuildIsolation: false,
  pre: false,
  noCacheDir: false,
};

const GLOBAL = ['-m', 'pip', '--isolated', '--disable-pip-version-check', '--no-input', '--no-color'];

/** `run` throws a usage error that `dib-pypi mirror add` shows as `message` (an input named by its flag). */
function usageError(run: () => unknown, message: string): void {
  assert.throws(run, (thrown: unknown) => {
    const error = withFlagNames(thrown, COMMANDS['mirror add']?.inputs ?? {});
    assert.ok(error instanceof UsageError, `expected UsageError, got ${String(error)}`);
    assert.equal(error.message, message);
    return true;
  });
}

const MINOR: [string, string | undefined][] = [
  ['3.11', '3.11'],
  ['311', '3.11'],
  ['39', '3.9'],
  ['3.9.1', '3.9'],
  ['3', undefined],
  ['3.10', '3.10'],
];
for (const [raw, out] of MINOR) {
  test(`pythonMinorVersion(${raw}) = ${out}`, () => assert.equal(pythonMinorVersion(raw), out));
}

const TARGETS: { name: string; input: Partial<AddInput>; out: { label: string; pipArgs: string[] }[] }[] = [
  { name: 'no target flags: the interpreter itself', input: {}, out: [{ label: 'native', pipArgs: [] }] },
  {
    name: 'two versions',
    input: { pythonVersions: ['3.9', '3.11'] },
    out: [
      { label: 'py3.9', pipArgs: ['--python-version', '3.9'] },
      { label: 'py3.11', pipArgs: ['--python-version', '3.11'] },
    ],
  },
  {
    name: 'versions x platforms, implementation and abis to each',
    input: { pythonVersions: ['39', '311'], platforms: ['manylinux2014_x86_64', 'win_amd64'], implementation: 'cp', abis: ['abi3', 'none'] },
    out: [
      {
        label: 'cp39-manylinux2014_x86_64',
        pipArgs: ['--python-version', '39', '--platform', 'manylinux2014_x86_64', '--implementation', 'cp', '--abi', 'abi3', '--abi', 'none'],
      },
      { label: 'cp39-win_amd64', pipArgs: ['--python-version', '39', '--platform', 'win_amd64', '--implementation', 'cp', '--abi', 'abi3', '--abi', 'none'] },
      {
        label: 'cp311-manylinux2014_x86_64',
        pipArgs: ['--python-version', '311', '--platform', 'manylinux2014_x86_64', '--implementation', 'cp', '--abi', 'abi3', '--abi', 'none'],
      },
      { label: 'cp311-win_amd64', pipArgs: ['--python-version', '311', '--platform', 'win_amd64', '--implementation', 'cp', '--abi', 'abi3', '--abi', 'none'] },
    ],
  },
  {
    name: 'a comma list is one target with several platform tags',
    input: { platforms: ['manylinux2014_x86_64,linux_x86_64'] },
    out: [{ label: 'manylinux2014_x86_64+linux_x86_64', pipArgs: ['--platform', 'manylinux2014_x86_64', '--platform', 'linux_x86_64'] }],
  },
  { name: 'a repeated version is one target', input: { pythonVersions: ['3.9', '3.9'] }, out: [{ label: 'py3.9', pipArgs: ['--python-version', '3.9'] }] },
];
for (const { name, input, out } of TARGETS) {
  test(`buildTargets: ${name}`, () => {
    assert.deepEqual(
      buildTargets({ ...BASE, ...input }).map((t) => ({ label: t.label, pipArgs: t.pipArgs })),
      out,
    );
  });
}

const BAD: { name: string; input: Partial<AddInput>; message: string }[] = [
  { name: 'nothing to add', input: { requirements: [] }, message: 'mirror add: nothing to add: give -r FILE or requirement specifiers (PKG...)' },
  { name: 'bad python version', input: { pythonVersions: ['3.x'] }, message: '--python-version: not a Python version (3.11, 311, 3.11.2): "3.x"' },
  { name: 'bad platform', input: { platforms: ['linux x86'] }, message: '--platform: not a platform tag (manylinux2014_x86_64, win_amd64): "linux x86"' },
  { name: 'bad implementation', input: { implementation: 'cpython' }, message: '--implementation: not a Python implementation (cp, pp, py): "cpython"' },
  {
    name: 'sdists for a foreign target',
    input: { pythonVersions: ['3.9'], noBinary: [':all:'] },
    message: '--no-binary: cannot take sdists for --python-version, --platform, --implementation or --abi targets (pip needs --only-binary=:all: there)',
  },
  {
    name: 'only some wheels for a foreign target',
    input: { platforms: ['win_amd64'], onlyBinary: ['numpy'] },
    message: '--only-binary: --python-version, --platform, --implementation and --abi targets need --only-binary=:all: (or no --only-binary: dib-pypi adds it)',
  },
  { name: 'not a URL', input: { indexUrl: 'ftp://h/simple' }, message: '--index-url: pip cannot read ftp:// indexes: "ftp://h/simple"' },
  { name: 'an option as a requirement', input: { requirements: ['--upgrade'] }, message: 'mirror add: not a requirement: "--upgrade"' },
];
for (const { name, input, message } of BAD) {
  test(`planAdd refuses: ${name}`, () => usageError(() => planAdd({ ...BASE, ...input }, '/work'), message));
}

test('indexUrlArg: URLs as given, a directory path as a file:// URL', () => {
  assert.equal(indexUrlArg('http://u:p@h:8080/simple/', 'X', '/work'), 'http://u:p@h:8080/simple/');
  assert.equal(indexUrlArg('file:///srv/pypi', 'X', '/work'), 'file:///srv/pypi');
  assert.equal(indexUrlArg('up stream', 'X', '/work'), 'file:///work/up%20stream');
  assert.equal(indexUrlArg('/srv/pypi', 'X', '/work'), 'file:///srv/pypi');
});

test('planAdd: native run, paths made absolute, every flag passed to pip', () => {
  const plan = planAdd(
    {
      ...BASE,
      requirementFiles: ['req.txt', '/abs/more.txt'],
      requirements: ['ipython[all]', 'x>=1,<2'],
      indexUrl: 'http://127.0.0.1:8080/simple/',
      extraIndexUrls: ['upstream'],
      findLinks: ['wheels', 'https://h/links/'],
      trustedHosts: ['mirror.local:8080'],
      noIndex: true,
      onlyBinary: ['numpy'],
      noBinary: ['lxml'],
      pre: true,
      noBuildIsolation: true,
      noCacheDir: true,
      buildWheels: true,
      lockFile: 'out/requirements.lock',
    },
    '/work',
  );
  assert.equal(plan.dir, '/work/mirror');
  assert.equal(plan.lockFile, '/work/out/requirements.lock');
  assert.equal(plan.isForeign, false);
  assert.equal(plan.addedOnlyBinary, false);
  assert.deepEqual(plan.requirementFiles, ['/work/req.txt', '/abs/more.txt']);
  const [target] = plan.targets;
  assert.ok(target);
  assert.deepEqual(downloadArgv(plan, target, '/tmp/d'), [
    ...GLOBAL,
    'download',
    '--dest',
    '/tmp/d',
    '--progress-bar',
    'off',
    '--index-url',
    'http://127.0.0.1:8080/simple/',
    '--extra-index-url',
    'file:///work/upstream',
    '--find-links',
    '/work/wheels',
    '--find-links',
    'https://h/links/',
    '--trusted-host',
    'mirror.local:8080',
    '--no-index',
    '--only-binary=numpy',
    '--no-binary=lxml',
    '--pre',
    '--no-build-isolation',
    '--no-cache-dir',
    '-r',
    '/work/req.txt',
    '-r',
    '/abs/more.txt',
    'ipython[all]',
    'x>=1,<2',
  ]);
  assert.deepEqual(wheelArgv(plan, ['/tmp/d/a-1.tar.gz'], '/tmp/w'), [
    ...GLOBAL,
    'wheel',
    '--no-deps',
    '--wheel-dir',
    '/tmp/w',
    '--progress-bar',
    'off',
    '--index-url',
    'http://127.0.0.1:8080/simple/',
    '--extra-index-url',
    'file:///work/upstream',
    '--find-links',
    '/work/wheels',
    '--find-links',
    'https://h/links/',
    '--trusted-host',
    'mirror.local:8080',
    '--no-index',
    '--no-build-isolation',
    '--no-cache-dir',
    '/tmp/d/a-1.tar.gz',
  ]);
});

test('planAdd: foreign targets get --only-binary=:all: added, once per run', () => {
  const plan = planAdd({ ...BASE, pythonVersions: ['3.9', '3.11'] }, '/work');
  assert.equal(plan.isForeign, true);
  assert.equal(plan.addedOnlyBinary, true);
  assert.equal(plan.lockFile, undefined);
  assert.deepEqual(
    plan.targets.map((t) => downloadArgv(plan, t, '/d').slice(GLOBAL.length + 5)),
    [
      ['--python-version', '3.9', '--only-binary=:all:', 'demo'],
      ['--python-version', '3.11', '--only-binary=:all:', 'demo'],
    ],
  );
  const given = planAdd({ ...BASE, platforms: ['win_amd64'], onlyBinary: [':all:'], noBinary: [':none:'] }, '/work');
  assert.equal(given.addedOnlyBinary, false);
  assert.deepEqual(given.downloadArgs, ['--only-binary=:all:', '--no-binary=:none:']);
});
