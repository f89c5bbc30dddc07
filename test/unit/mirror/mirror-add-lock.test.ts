// The lock file of `mirror add` and pip output parsing: pins, markers per target, exact text; pip lines -> events.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DibPypiError } from '../../../src/errors.js';
import {
  buildLockEntries,
  isOwnLock,
  markerFor,
  mergeLock,
  parseLock,
  renderLock,
  resolvePins,
  sysPlatformOfTag,
  type LockEntry,
  type TargetEnvironment,
} from '../../../src/pypi/lock-file.js';
import { parsePipLine, pipFailureReason } from '../../../src/mirror/add/pip-output.js';

const TWO_PYTHONS: TargetEnvironment[] = [
  { label: 'py3.9', pythonVersion: '3.9', sysPlatform: 'linux' },
  { label: 'py3.11', pythonVersion: '3.11', sysPlatform: 'linux' },
];
const GRID: TargetEnvironment[] = [
  { label: 'py3.9-linux', pythonVersion: '3.9', sysPlatform: 'linux' },
  { label: 'py3.9-win', pythonVersion: '3.9', sysPlatform: 'win32' },
  { label: 'py3.11-linux', pythonVersion: '3.11', sysPlatform: 'linux' },
  { label: 'py3.11-win', pythonVersion: '3.11', sysPlatform: 'win32' },
];

const MARKERS: { name: string; targets: string[]; envs: TargetEnvironment[]; out: string | undefined | null }[] = [
  { name: 'every target: no marker', targets: ['py3.9', 'py3.11'], envs: TWO_PYTHONS, out: undefined },
  { name: 'one Python version', targets: ['py3.9'], envs: TWO_PYTHONS, out: 'python_version == "3.9"' },
  { name: 'one version on both platforms', targets: ['py3.11-linux', 'py3.11-win'], envs: GRID, out: 'python_version == "3.11"' },
  { name: 'one platform on both versions', targets: ['py3.9-win', 'py3.11-win'], envs: GRID, out: 'sys_platform == "win32"' },
  {
    name: 'needs both fields',
    targets: ['py3.9-win', 'py3.11-linux'],
    envs: GRID,
    out: '(python_version == "3.9" and sys_platform == "win32") or (python_version == "3.11" and sys_platform == "linux")',
  },
  { name: 'one cell of the grid', targets: ['py3.9-win'], envs: GRID, out: 'python_version == "3.9" and sys_platform == "win32"' },
  {
    name: 'two platforms that are both linux cannot be told apart',
    targets: ['a'],
    envs: [
      { label: 'a', pythonVersion: '3.11', sysPlatform: 'linux' },
      { label: 'b', pythonVersion: '3.11', sysPlatform: 'linux' },
    ],
    out: null,
  },
  {
    name: 'an unknown platform falls back to the Python version',
    targets: ['a'],
    envs: [
      { label: 'a', pythonVersion: '3.9' },
      { label: 'b', pythonVersion: '3.11' },
    ],
    out: 'python_version == "3.9"',
  },
];
for (const { name, targets, envs, out } of MARKERS) {
  test(`markerFor: ${name}`, () => assert.equal(markerFor(targets, envs), out));
}

const TAGS: [string, string | undefined][] = [
  ['manylinux2014_x86_64', 'linux'],
  ['manylinux_2_17_aarch64', 'linux'],
  ['musllinux_1_1_x86_64', 'linux'],
  ['linux_x86_64', 'linux'],
  ['win_amd64', 'win32'],
  ['win32', 'win32'],
  ['macosx_11_0_arm64', 'darwin'],
  ['any', undefined],
];
for (const [tag, out] of TAGS) {
  test(`sysPlatformOfTag(${tag}) = ${out}`, () => assert.equal(sysPlatformOfTag(tag), out));
}

test('resolvePins: one pin per project and PEP 440 version, built wheels add no pin, sorted', () => {
  const pins = resolvePins([
    { project: 'newpy', version: '2.0', targets: ['py3.11'] },
    { project: 'demo', version: '1.0', targets: ['py3.9'] },
    { project: 'newpy', version: '1.0', targets: ['py3.9'] },
    { project: 'demo', version: '1.0.0', targets: ['py3.11'] },
    { project: 'built', version: '0.1', targets: [] },
  ]);
  assert.deepEqual(pins, [
    { project: 'demo', version: '1.0', targets: ['py3.9', 'py3.11'] },
    { project: 'newpy', version: '1.0', targets: ['py3.9'] },
    { project: 'newpy', version: '2.0', targets: ['py3.11'] },
  ]);
});

test('renderLock: header, pins with markers, every hash sorted and deduplicated', () => {
  const pins = resolvePins([
    { project: 'demo', version: '1.0', targets: ['py3.9', 'py3.11'] },
    { project: 'newpy', version: '1.0', targets: ['py3.9'] },
    { project: 'newpy', version: '2.0', targets: ['py3.11'] },
  ]);
  const hashes: Record<string, string[]> = { 'demo 1.0': ['bb', 'aa', 'bb'], 'newpy 1.0': ['cc'], 'newpy 2.0': ['dd'] };
  const entries = buildLockEntries(pins, TWO_PYTHONS, (pin) => hashes[`${pin.project} ${pin.version}`] ?? []);
  assert.equal(
    renderLock(entries, TWO_PYTHONS, 'my.lock'),
    [
      '# Written by `dib-pypi mirror add`: every project it resolved, pinned, with the sha256 of every',
      '# file of that version in the mirror, so the same lock installs on each target. Install with',
      '#   pip install --require-hashes --index-url file:///tmp/pypi -r my.lock',
      '# Targets: py3.9 (python 3.9, linux); py3.11 (python 3.11, linux)',
      'demo==1.0 \\',
      '    --hash=sha256:aa \\',
      '    --hash=sha256:bb',
      'newpy==1.0 ; python_version == "3.9" \\',
      '    --hash=sha256:cc',
      'newpy==2.0 ; python_version == "3.11" \\',
      '    --hash=sha256:dd',
      '',
    ].join('\n'),
  );
});

test('buildLockEntries: refuses pins no marker can separate, naming them', () => {
  const envs: TargetEnvironment[] = [
    { label: 'a', pythonVersion: '3.11', sysPlatform: 'linux' },
    { label: 'b', pythonVersion: '3.11', sysPlatform: 'linux' },
  ];
  const pins = resolvePins([
    { project: 'x', version: '1', targets: ['a'] },
    { project: 'x', version: '2', targets: ['b'] },
  ]);
  assert.throws(
    () => buildLockEntries(pins, envs, () => ['00']),
    (error: unknown) => error instanceof DibPypiError && error.exitCode === 1 && /x==1 \(only for a\)\n {2}x==2 \(only for b\)/.test(error.message),
  );
});

const LINES: [string, ReturnType<typeof parsePipLine>][] = [
  ['Collecting demo.pkg[fancy]', { kind: 'collecting', requirement: 'demo.pkg[fancy]' }],
  ['Collecting dep-lib>=1 (from demo.pkg[fancy])', { kind: 'collecting', requirement: 'dep-lib>=1' }],
  [
    '  Downloading http://127.0.0.1:8765/demo_pkg-1.0-py3-none-any.whl (1.0 kB)',
    { kind: 'downloading', file: 'demo_pkg-1.0-py3-none-any.whl', size: '1.0 kB' },
  ],
  ['  Downloading http://h/p/Zope.Interface%5FThing-1.0.tar.gz', { kind: 'downloading', file: 'Zope.Interface_Thing-1.0.tar.gz' }],
  ['Processing ./up/dep_lib-2.0-py3-none-any.whl (from demo.pkg[fancy])', { kind: 'downloading', file: 'dep_lib-2.0-py3-none-any.whl' }],
  ['Saved ./d1/newpy-2.0-py3-none-any.whl', { kind: 'saved', file: 'newpy-2.0-py3-none-any.whl' }],
  ['  File was already downloaded /tmp/x/newpy-2.0-py3-none-any.whl', { kind: 'saved', file: 'newpy-2.0-py3-none-any.whl' }],
  ['  Building wheel for tiny-sdist (pyproject.toml): started', { kind: 'building', project: 'tiny-sdist' }],
  ['  Created wheel for tiny-sdist: filename=tiny_sdist-0.1-py3-none-any.whl size=1092 sha256=ab', { kind: 'built', file: 'tiny_sdist-0.1-py3-none-any.whl' }],
  ['Looking in indexes: http://127.0.0.1:8765/', undefined],
  ['Successfully downloaded newpy dep-lib', undefined],
];
for (const [line, event] of LINES) {
  test(`parsePipLine: ${JSON.stringify(line)}`, () => assert.deepEqual(parsePipLine(line), event));
}

const FAILURES: [string, string[], string][] = [
  [
    'no distribution',
    [
      'Collecting nosuch',
      'ERROR: Could not find a version that satisfies the requirement nosuch (from versions: none)',
      'ERROR: No matching distribution found for nosuch',
    ],
    'No matching distribution found for nosuch',
  ],
  [
    'a build backend error names what pip worked on',
    [
      'Processing ./up/tiny_sdist-0.1.tar.gz (from extra-only)',
      '  Preparing metadata (pyproject.toml): started',
      'error: subprocess-exited-with-error',
      'error: metadata-generation-failed',
    ],
    'metadata-generation-failed (while working on tiny_sdist-0.1.tar.gz)',
  ],
  ['nothing printed', [], 'pip printed no error'],
];
for (const [name, lines, reason] of FAILURES) {
  test(`pipFailureReason: ${name}`, () => assert.equal(pipFailureReason(lines), reason));
}

const H = (c: string) => c.repeat(64);
const entry = (project: string, version: string, hashes: string[], marker?: string): LockEntry => ({
  project,
  version,
  targets: [],
  sha256: hashes.map(H),
  ...(marker === undefined ? {} : { marker }),
});

test('parseLock reads back what renderLock wrote: pins, markers, hashes, targets', () => {
  const entries = [
    entry('demo', '1.0', ['a', 'b']),
    entry('newpy', '1.0', ['c'], 'python_version == "3.9"'),
    entry('newpy', '2.0', ['d'], 'python_version == "3.11"'),
  ];
  const text = renderLock(entries, TWO_PYTHONS, 'x.lock');
  assert.ok(isOwnLock(text));
  assert.deepEqual(parseLock(text), { entries, targets: ['py3.9 (python 3.9, linux)', 'py3.11 (python 3.11, linux)'] });
  assert.equal(isOwnLock('requests==2.0\n'), false);
  assert.throws(() => parseLock(`${text}garbage line\n`), /line 12 is not a pin/);
});

test('mergeLock: earlier projects kept, new ones added, a project resolved again takes the new pins; sorted; says what changed', () => {
  const previous = [entry('zeta', '1.0', ['a']), entry('demo', '1.0', ['b']), entry('same', '2.0', ['c'])];
  const next = [entry('alpha', '0.1', ['d']), entry('demo', '2.0', ['e']), entry('same', '2.0', ['c'])];
  const { entries, changes } = mergeLock(previous, next);
  assert.deepEqual(
    entries.map((e) => `${e.project}==${e.version}`),
    ['alpha==0.1', 'demo==2.0', 'same==2.0', 'zeta==1.0'],
  );
  assert.deepEqual(changes, {
    added: ['alpha==0.1'],
    changed: [{ project: 'demo', from: ['demo==1.0'], to: ['demo==2.0'] }],
    kept: ['zeta==1.0'],
    unchanged: ['same==2.0'],
  });
  // Same pins in any order give the same bytes.
  const again = mergeLock([...previous].reverse(), [...next].reverse());
  assert.equal(renderLock(again.entries, TWO_PYTHONS), renderLock(entries, TWO_PYTHONS));
  // The same version with another file (a built wheel) is a change too.
  const rebuilt = mergeLock(previous, [entry('same', '2.0', ['c', 'f'])]).changes;
  assert.deepEqual(rebuilt.changed, [{ project: 'same', from: ['same==2.0'], to: ['same==2.0'] }]);
});

test('renderLock: the targets of earlier runs stay in the header, once each', () => {
  const text = renderLock([entry('demo', '1.0', ['a'])], TWO_PYTHONS, 'x.lock', ['native (python 3.11, linux)', 'py3.9 (python 3.9, linux)']);
  assert.match(text, /^# Targets: native \(python 3\.11, linux\); py3\.9 \(python 3\.9, linux\); py3\.11 \(python 3\.11, linux\)$/m);
});
