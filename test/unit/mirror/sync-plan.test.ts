// Sync's pure core: filters (python, platform, type, extension, size, exclude, latest-N), the per-project plan, sidecars, options and config.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  emptyReason,
  filterProjectFiles,
  globToRegExp,
  isProjectExcluded,
  NO_FILTERS,
  platformTagFits,
  pythonTagFits,
  type SyncFilters,
} from '../../../src/mirror/sync/filters.js';
import { planProject, sidecarChanges, type ProjectState } from '../../../src/mirror/sync/plan.js';
import { buildSyncOptions, mergeOptions, parsePythonVersion, parseRequirementNames } from '../../../src/mirror/sync/options.js';
import { parseSize } from '../../../src/parse-size.js';
import { parseSyncConfig } from '../../../src/mirror/sync/config.js';
import type { UpstreamFile } from '../../../src/upstream/simple-model.js';
import { InputError } from '../../../src/errors.js';
import { COMMANDS } from '../../../src/cli/commands.js';
import { withFlagNames } from '../../../src/cli/input-errors.js';

const H = (c: string) => c.repeat(64);
const file = (filename: string, extra: Partial<UpstreamFile> = {}): UpstreamFile => ({
  filename,
  url: `http://u/${filename}`,
  hashes: { sha256: H('a') },
  ...extra,
});
/** Runs `run`; what it throws is shown as `dib-pypi mirror sync` shows it (the input named by its flag). */
const asSyncShows = <T>(run: () => T): T => {
  try {
    return run();
  } catch (error) {
    throw withFlagNames(error, COMMANDS['mirror sync']?.inputs ?? {});
  }
};
const kept = (files: UpstreamFile[], filters: Partial<SyncFilters>) =>
  filterProjectFiles('demo', files, { ...NO_FILTERS, ...filters }).kept.map((k) => k.file.filename);

const FILES = [
  file('demo-1.0.tar.gz', { size: 100 }),
  file('demo-1.0-py2.py3-none-any.whl', { size: 50 }),
  file('demo-2.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl', { size: 5000 }),
  file('demo-2.0-cp310-cp310-manylinux_2_28_aarch64.whl'),
  file('demo-2.0-cp38-abi3-musllinux_1_1_x86_64.whl'),
  file('demo-2.0-cp312-cp312-win_amd64.whl'),
  file('demo-2.0-cp312-cp312-macosx_10_9_universal2.whl'),
  file('demo-2.0.tar.gz', { requiresPython: '>=3.10' }),
  file('demo-3.0rc1-py3-none-any.whl'),
  file('demo-2.5-py3-none-any.whl', { yanked: true }),
  file('demo-1.0.exe'),
  file('other-1.0.tar.gz'),
];

test('no filters: every wheel and sdist of the project; other files skipped with a reason', () => {
  const result = filterProjectFiles('demo', FILES, NO_FILTERS);
  assert.equal(result.kept.length, 10);
  assert.deepEqual(
    result.skipped.map((s) => [s.file.filename, s.reason]),
    [
      ['demo-1.0.exe', 'not a wheel or sdist of demo'],
      ['other-1.0.tar.gz', 'not a wheel or sdist of demo'],
    ],
  );
});

test('python tags: py3, cpXY exact, abi3 from its version on, other majors never', () => {
  const rows: [string, string[], string, boolean][] = [
    ['py3', ['none'], '3.11', true],
    ['py2', ['none'], '3.11', false],
    ['cp311', ['cp311'], '3.11', true],
    ['cp311', ['cp311'], '3.12', false],
    ['cp38', ['abi3'], '3.12', true],
    ['cp38', ['abi3'], '3.7', false],
    ['pp310', ['pypy310_pp73'], '3.10', true],
    ['cp311', ['cp311'], '3', true],
    ['garbage', ['none'], '3.11', false],
  ];
  for (const [tag, abi, target, fits] of rows) assert.equal(pythonTagFits(tag, abi, target), fits, `${tag}-${abi} on ${target}`);
});

test('platform tags: older glibc/musl/macOS of the same arch, legacy manylinux aliases, universal2', () => {
  const rows: [string, string, boolean][] = [
    ['manylinux2014_x86_64', 'manylinux_2_17_x86_64', true],
    ['manylinux1_x86_64', 'manylinux_2_17_x86_64', true],
    ['manylinux_2_28_x86_64', 'manylinux_2_17_x86_64', false],
    ['manylinux_2_17_aarch64', 'manylinux_2_17_x86_64', false],
    ['musllinux_1_1_x86_64', 'manylinux_2_17_x86_64', false],
    ['macosx_10_9_universal2', 'macosx_11_0_arm64', true],
    ['macosx_12_0_arm64', 'macosx_11_0_arm64', false],
    ['win_amd64', 'win_amd64', true],
    ['win32', 'win_amd64', false],
  ];
  for (const [tag, target, fits] of rows) assert.equal(platformTagFits(tag, target), fits, `${tag} on ${target}`);
});

test('filters, one row each', () => {
  const rows: [Partial<SyncFilters>, string[]][] = [
    [
      { pythonVersions: ['3.11'] },
      [
        'demo-1.0.tar.gz',
        'demo-1.0-py2.py3-none-any.whl',
        'demo-2.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
        'demo-2.0-cp38-abi3-musllinux_1_1_x86_64.whl',
        'demo-2.0.tar.gz',
        'demo-3.0rc1-py3-none-any.whl',
        'demo-2.5-py3-none-any.whl',
      ],
    ],
    [
      { pythonVersions: ['3.9'] },
      [
        'demo-1.0.tar.gz',
        'demo-1.0-py2.py3-none-any.whl',
        'demo-2.0-cp38-abi3-musllinux_1_1_x86_64.whl',
        'demo-3.0rc1-py3-none-any.whl',
        'demo-2.5-py3-none-any.whl',
      ],
    ],
    [
      { platforms: ['manylinux_2_17_x86_64'] },
      [
        'demo-1.0.tar.gz',
        'demo-1.0-py2.py3-none-any.whl',
        'demo-2.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
        'demo-2.0.tar.gz',
        'demo-3.0rc1-py3-none-any.whl',
        'demo-2.5-py3-none-any.whl',
      ],
    ],
    [{ packageTypes: ['sdist'] }, ['demo-1.0.tar.gz', 'demo-2.0.tar.gz']],
    [{ extensions: ['.tar.gz'], exclude: ['*-1.0*'] }, ['demo-2.0.tar.gz']],
    [{ maxFileSize: 100, packageTypes: ['sdist'] }, ['demo-1.0.tar.gz', 'demo-2.0.tar.gz']], // size unknown: kept
    [{ maxFileSize: 99, extensions: ['.tar.gz'] }, ['demo-2.0.tar.gz']],
    [{ latest: 1, packageTypes: ['sdist'] }, ['demo-2.0.tar.gz']],
    // 3.0rc1 is a pre-release and 2.5 only yanked: the latest release is 2.0
    [{ latest: 1, platforms: ['win_amd64'] }, ['demo-2.0-cp312-cp312-win_amd64.whl', 'demo-2.0.tar.gz']],
    [{ latest: 1, isPreIncluded: true }, ['demo-3.0rc1-py3-none-any.whl']],
    [{ latest: 2, pythonVersions: ['3.9'], packageTypes: ['wheel'] }, ['demo-1.0-py2.py3-none-any.whl', 'demo-2.0-cp38-abi3-musllinux_1_1_x86_64.whl']],
    // No final release passes the other filters: as pip, the newest pre-release is taken.
    [{ latest: 1, exclude: ['*-1.0*', '*-2.0*', '*-2.5*'] }, ['demo-3.0rc1-py3-none-any.whl']],
  ];
  for (const [filters, expected] of rows) assert.deepEqual(kept(FILES, filters), expected, JSON.stringify(filters));
});

test('emptyReason: what kept nothing of a project, counted', () => {
  assert.equal(
    emptyReason(filterProjectFiles('demo', FILES, { ...NO_FILTERS, packageTypes: ['sdist'], extensions: ['.zip'] })),
    'no file passes the filters (8 package type wheel, 2 extension, 2 not a wheel or sdist of demo)',
  );
  assert.equal(emptyReason(filterProjectFiles('demo', [], NO_FILTERS)), 'the upstream lists no files');
});

test('exclude: projects by normalised name, globs anchored', () => {
  const filters = { ...NO_FILTERS, exclude: ['Django*', 'zope.?'] };
  assert.equal(isProjectExcluded('django-rest', filters), true);
  assert.equal(isProjectExcluded('Zope_X', filters), true);
  assert.equal(isProjectExcluded('mydjango', filters), false);
  assert.equal(globToRegExp('a.b+c').test('aXb+c'), false);
});

const STATE = (files: [string, number, string?][], sidecars: [string, string][] = []): ProjectState => ({
  project: 'demo',
  files: new Map(files.map(([name, size, sha]) => [name, sha === undefined ? { size } : { size, trustedSha256: sha }])),
  sidecars: new Map(sidecars),
});
const K = (files: UpstreamFile[]) => filterProjectFiles('demo', files, NO_FILTERS).kept;

test('plan: download missing, keep matching, check unknown, conflict on other bytes, skip unverifiable, delete only when asked', () => {
  const upstream = [
    file('demo-1.0.tar.gz', { size: 10 }),
    file('demo-2.0.tar.gz', { size: 20 }),
    file('demo-3.0.tar.gz'),
    file('demo-4.0.tar.gz', { hashes: { sha256: H('b') } }),
    file('demo-5.0.tar.gz', { size: 50 }),
    file('demo-6.0.tar.gz', { hashes: { md5: 'c'.repeat(32) } }),
    file('demo-7.0.tar.gz', { hashes: { sha512: 'd'.repeat(128) } }),
  ];
  const local = STATE([
    ['demo-2.0.tar.gz', 20, H('a')],
    ['demo-3.0.tar.gz', 30],
    ['demo-4.0.tar.gz', 40, H('a')],
    ['demo-5.0.tar.gz', 51],
    ['demo-7.0.tar.gz', 70, H('e')],
    ['demo-0.1.tar.gz', 1],
  ]);
  const plan = planProject(local, K(upstream), false);
  const names = (list: { file: UpstreamFile }[]) => list.map((p) => p.file.filename);
  assert.deepEqual(names(plan.downloads), ['demo-1.0.tar.gz']);
  assert.deepEqual(names(plan.present), ['demo-2.0.tar.gz']);
  assert.deepEqual(names(plan.checks), ['demo-3.0.tar.gz', 'demo-7.0.tar.gz']); // sha512: the manifest only knows sha256
  assert.deepEqual(names(plan.conflicts), ['demo-4.0.tar.gz', 'demo-5.0.tar.gz']);
  assert.deepEqual(
    plan.unverifiable.map((f) => f.filename),
    ['demo-6.0.tar.gz'],
  );
  assert.deepEqual(plan.deletes, []);
  assert.deepEqual(planProject(local, K(upstream), true).deletes, ['demo-0.1.tar.gz']);
});

test('sidecars: yanked reason (empty for true), removal when no longer yanked, upload time only when it changes', () => {
  const rows: [Partial<UpstreamFile>, [string, string][], { name: string; text: string | null }[]][] = [
    [{ yanked: true }, [], [{ name: 'x.whl.yanked', text: '' }]],
    [{ yanked: 'broken build' }, [], [{ name: 'x.whl.yanked', text: 'broken build\n' }]],
    [{ yanked: 'broken build' }, [['x.whl.yanked', 'broken build\n']], []],
    [{}, [['x.whl.yanked', '']], [{ name: 'x.whl.yanked', text: null }]],
    [{}, [], []],
    [{ uploadTime: '2024-01-01T00:00:00Z' }, [], [{ name: 'x.whl.upload-time', text: '2024-01-01T00:00:00Z\n' }]],
    [{ uploadTime: '2024-01-01T00:00:00Z' }, [['x.whl.upload-time', '2024-01-01T00:00:00Z\n']], []],
  ];
  for (const [extra, existing, changes] of rows)
    assert.deepEqual(sidecarChanges(file('x.whl', extra), new Map(existing)), changes, JSON.stringify([extra, existing]));
});

test('options: sizes, python versions, requirement names, merged flags over file, every bad value a usage error', () => {
  assert.equal(parseSize('10M', 'x'), 10_000_000);
  assert.equal(parseSize('1.5GB', 'x'), 1_500_000_000);
  assert.equal(parseSize('2KiB', 'x'), 2048);
  assert.throws(() => parseSize('ten', 'x'), /expected a size/);
  assert.deepEqual(['3.11', '311', '3.11.4', '3'].map(parsePythonVersion), ['3.11', '3.11', '3.11', '3']);
  assert.throws(() => asSyncShows(() => parsePythonVersion('py3')), /--python-version/);
  assert.deepEqual(
    parseRequirementNames('# c\nDemo[x]>=1 ; python_version<"4"\n-r other.txt\n\nzope.interface @ https://x/y.whl # c\n--hash=sha256:x\n', 'r.txt'),
    ['Demo', 'zope.interface'],
  );
  assert.throws(() => parseRequirementNames('>=1\n', 'r.txt'), /r\.txt: line 1: not a requirement/);
  const merged = mergeOptions(
    { upstream: undefined, jobs: '2', platform: ['win_amd64'] },
    { upstream: 'http://u/', jobs: '9', platform: ['a', 'b'], latest: '3' },
  );
  assert.deepEqual(merged, { upstream: 'http://u/', jobs: '2', platform: ['win_amd64'], latest: '3' });
  const options = buildSyncOptions('/m', merged, ['req-name']);
  assert.equal(options.jobs, 2);
  assert.equal(options.filters.latest, 3);
  assert.deepEqual(options.projects, ['req-name']);
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ upstream: 'file:///x' }, /--upstream: expected an http/],
    [{ upstream: 'http://u/', jobs: '0' }, /--jobs/],
    [{ upstream: 'http://u/', latest: 'x' }, /--latest/],
    [{ upstream: 'http://u/', 'package-type': ['egg'] }, /--package-type/],
    [{ upstream: 'http://u/', project: ['bad name'] }, /--project/],
    [{ upstream: 'http://u/', platform: ['a b'] }, /--platform/],
  ];
  for (const [raw, message] of bad)
    assert.throws(
      () => asSyncShows(() => buildSyncOptions('/m', raw as never, [])),
      (e: Error & { exitCode?: number }) => message.test(e.message) && e.exitCode === 2,
      JSON.stringify(raw),
    );
  // The CLI says "required option --upstream not given" before (test/integration/cli/cli.test.ts); here it is the input's own error.
  assert.throws(
    () => buildSyncOptions('/m', {}, []),
    (e: unknown) => e instanceof InputError && e.input === 'upstream' && e.exitCode === 2,
  );
});

test('config: TOML and INI, top level or [sync], lists either way; unknown keys rejected', () => {
  const toml = parseSyncConfig('[sync]\nupstream = "http://u/"\nproject = ["a", "b"]\npre = true\njobs = 4\n', 'c.toml');
  assert.deepEqual(toml, { upstream: 'http://u/', project: ['a', 'b'], pre: true, jobs: '4' });
  const ini = parseSyncConfig('upstream = http://u/\nplatform = win_amd64, manylinux_2_17_x86_64\nproject[] = a\nproject[] = b\ndelete = true\n', 'c.ini');
  assert.deepEqual(ini, { upstream: 'http://u/', platform: ['win_amd64', 'manylinux_2_17_x86_64'], project: ['a', 'b'], delete: true });
  assert.deepEqual(parseSyncConfig('[sync]\npython_version = 3.11\n', 'c.cfg'), { 'python-version': ['3.11'] });
  assert.throws(() => parseSyncConfig('upstrem = "x"\n', 'c.toml'), /c\.toml: unknown option "upstrem"/);
  assert.throws(() => parseSyncConfig('upstream = [\n', 'c.toml'), /c\.toml: not valid TOML/);
  assert.throws(() => parseSyncConfig('pre = maybe\n', 'c.ini'), /pre: unexpected value/);
  assert.throws(() => parseSyncConfig('[other]\nx = 1\n', 'c.toml'), /unknown section \[other\]/);
});
