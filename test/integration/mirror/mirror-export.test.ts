// `dib-pypi mirror export`: exactly the locked files, indexed, verified, byte-identical on every export; installs offline with
// Debian's pip; missing or mismatching files fail with each one named and nothing at OUTDIR; bad usage is exit 2.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { cleanEnv, runCli, type CliResult } from '../../helpers/cli.js';
import { makeSdist, makeWheel } from '../../helpers/make-dist.js';
import { DEBIAN_PYTHON, debianPipProblem, envWithoutPip, makeTempDir } from '../../helpers/python.js';
import { need } from '../../helpers/require.js';
import { changedPaths, listTree } from '../../helpers/tree-listing.js';

const work = makeTempDir('dib-pypi-mirror-export-');
const source = join(work.path, 'source');
const lock = join(work.path, 'requirements.lock');

const sha256Of = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

function cli(args: string[]): CliResult {
  return runCli(args, { env: cleanEnv({ DIB_IMAGE_CACHE: join(work.path, 'no-cache') }) });
}

/** A lock in `mirror add`'s format: `pin \` then one `--hash` line per file. */
function renderLock(pins: [string, string[]][]): string {
  return pins.map(([pin, files]) => [pin, ...[...new Set(files.map(sha256Of))].sort().map((h) => `    --hash=sha256:${h}`)].join(' \\\n')).join('\n') + '\n';
}

/** The distribution files and sidecars of an export (no pages, no .metadata, no state). */
function distFiles(dir: string): string[] {
  const found: string[] = [];
  for (const project of readdirSync(dir).sort()) {
    if (project.startsWith('.') || !statSync(join(dir, project)).isDirectory()) continue;
    for (const name of readdirSync(join(dir, project)).sort())
      if (!/^index\.(html|json)$/.test(name) && !name.endsWith('.metadata')) found.push(`${project}/${name}`);
  }
  return found;
}

const S = (path: string) => join(source, path);

before(async () => {
  // Eleven projects (more directories than the indexer records at once without waiting), several versions,
  // two platforms' wheels of one version, an sdist, and sidecars.
  for (const n of ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel']) {
    mkdirSync(S(n), { recursive: true });
    await makeWheel(S(n), { name: n, version: '1.0' });
    await makeWheel(S(n), { name: n, version: '2.0' });
  }
  mkdirSync(S('demo-pkg'));
  await makeWheel(S('demo-pkg'), { name: 'Demo.Pkg', version: '1.0', requires: ['natlib>=1'] });
  await makeWheel(S('demo-pkg'), { name: 'Demo.Pkg', version: '1.1' });
  writeFileSync(S('demo-pkg/demo_pkg-1.0-py3-none-any.whl.upload-time'), '2024-01-02T03:04:05Z\n');
  mkdirSync(S('natlib'));
  await makeWheel(S('natlib'), { name: 'natlib', version: '1.0', tag: 'py3-none-manylinux2014_x86_64' });
  await makeWheel(S('natlib'), { name: 'natlib', version: '1.0', tag: 'py3-none-win_amd64' });
  await makeWheel(S('natlib'), { name: 'natlib', version: '0.9', tag: 'py3-none-manylinux2014_x86_64' });
  mkdirSync(S('tiny-sdist'));
  makeSdist(S('tiny-sdist'), { name: 'tiny-sdist', version: '0.1' });
  makeSdist(S('tiny-sdist'), { name: 'tiny-sdist', version: '0.2' });
  writeFileSync(S('tiny-sdist/tiny_sdist-0.2.tar.gz.yanked'), 'broken\n');
  const indexed = cli(['mirror', 'index', source]);
  assert.equal(indexed.status, 0, indexed.stderr);
  writeFileSync(
    lock,
    renderLock([
      ['alpha==2.0', [S('alpha/alpha-2.0-py3-none-any.whl')]],
      ['bravo==1.0', [S('bravo/bravo-1.0-py3-none-any.whl')]],
      ['demo-pkg==1.0', [S('demo-pkg/demo_pkg-1.0-py3-none-any.whl')]],
      ['natlib==1.0', [S('natlib/natlib-1.0-py3-none-manylinux2014_x86_64.whl'), S('natlib/natlib-1.0-py3-none-win_amd64.whl')]],
      ['tiny-sdist==0.1', [S('tiny-sdist/tiny_sdist-0.1.tar.gz')]],
    ]),
  );
});

after(() => work.remove());

const EXPECTED = [
  'alpha/alpha-2.0-py3-none-any.whl',
  'bravo/bravo-1.0-py3-none-any.whl',
  'demo-pkg/demo_pkg-1.0-py3-none-any.whl',
  'demo-pkg/demo_pkg-1.0-py3-none-any.whl.upload-time',
  'natlib/natlib-1.0-py3-none-manylinux2014_x86_64.whl',
  'natlib/natlib-1.0-py3-none-win_amd64.whl',
  'tiny-sdist/tiny_sdist-0.1.tar.gz',
];

test('exactly the locked files (all platforms of a pin, with sidecars), indexed; verify passes; two exports are byte-identical', () => {
  const one = join(work.path, 'one');
  const two = join(work.path, 'two');
  mkdirSync(two); // an empty directory is fine too
  // Left by an export that was killed (no process 2^22-1 here): removed by the next export to the same place.
  mkdirSync(join(work.path, '.one.export-4194303', 'alpha'), { recursive: true });
  const first = cli(['mirror', 'export', lock, one, '--from', source]);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /exported 6 files .*6 hard-linked, 0 copied.* for 5 pins/);
  const second = cli(['mirror', 'export', lock, two, '--from', source, '--json']);
  assert.equal(second.status, 0, second.stderr);
  const summary = JSON.parse(second.stdout) as { files: { path: string; how: string }[]; pins: number };
  assert.equal(summary.pins, 5);
  assert.deepEqual(distFiles(one), EXPECTED);
  // Path, type, mode, owner, size, mtime and sha256 of every entry, the index's state included.
  assert.deepEqual(listTree(two), listTree(one));
  assert.equal(readdirSync(work.path).filter((n) => n.includes('.export-')).length, 0, 'no temp directory left');
  for (const [path, text] of [
    ['index.html', 'alpha'],
    ['natlib/index.html', 'natlib-1.0-py3-none-win_amd64.whl'],
    ['demo-pkg/index.json', '2024-01-02T03:04:05Z'],
  ] as const) {
    assert.ok(readFileSync(join(one, path), 'utf8').includes(text), `${path} has ${text}`);
  }
  assert.ok(!readFileSync(join(one, 'index.html'), 'utf8').includes('charlie'));
  const verify = cli(['mirror', 'verify', one]);
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  // A re-index trusts every directory's recorded mtime and changes nothing (its lock file, taken and
  // removed in .dib-pypi/, touches that directory's mtime only).
  const before = listTree(one);
  const reindex = cli(['mirror', 'index', one, '--json']);
  assert.equal(reindex.status, 0, reindex.stderr);
  assert.equal((JSON.parse(reindex.stdout) as { inspected: number; written: number }).written, 0);
  assert.deepEqual(
    changedPaths(before, listTree(one)).filter((p) => p !== '.dib-pypi'),
    [],
  );
});

test('--copy: nothing shared with the source; two copies are byte-identical; the same pages as a linked export', () => {
  const linked = join(work.path, 'linked');
  const a = join(work.path, 'copy-a');
  const b = join(work.path, 'copy-b');
  for (const [dir, extra] of [
    [linked, []],
    [a, ['--copy']],
    [b, ['--copy']],
  ] as const) {
    const result = cli(['mirror', 'export', lock, dir, '--from', source, ...extra]);
    assert.equal(result.status, 0, result.stderr);
  }
  assert.deepEqual(listTree(b), listTree(a));
  const file = 'natlib/natlib-1.0-py3-none-win_amd64.whl';
  assert.notEqual(statSync(join(a, file)).ino, statSync(S(file)).ino);
  assert.equal(statSync(join(linked, file)).ino, statSync(S(file)).ino);
  assert.equal(statSync(join(a, file)).mtimeMs, 315532800000);
  // Outside the index's own state the trees hold the same bytes.
  const contents = (dir: string) =>
    listTree(dir)
      .filter((l) => !l.startsWith('".dib-pypi'))
      .map((l) =>
        l
          .split(' ')
          .filter((_, i) => i !== 6)
          .join(' '),
      );
  assert.deepEqual(contents(a), contents(linked));
});

test('Debian pip installs the lock from file://OUTDIR offline with --require-hashes', async (t) => {
  const problem = await debianPipProblem();
  if (!need(t, problem === undefined, problem ?? '')) return;
  const out = join(work.path, 'pip-export');
  const exported = cli(['mirror', 'export', lock, out, '--from', source]);
  assert.equal(exported.status, 0, exported.stderr);
  const target = join(work.path, 'pip-target');
  const env = envWithoutPip(process.env, { PIP_CONFIG_FILE: '/dev/null' });
  const pipArgs = [
    '-m',
    'pip',
    '--isolated',
    '--disable-pip-version-check',
    'install',
    '--no-cache-dir',
    '--no-build-isolation',
    '--index-url',
    `file://${out}`,
    '--target',
    target,
    '--require-hashes',
    '-r',
    lock,
  ];
  const installed = await execa(DEBIAN_PYTHON, pipArgs, { env, extendEnv: false, reject: false, all: true });
  assert.equal(installed.exitCode, 0, installed.all);
  assert.match(installed.all ?? '', /Successfully installed alpha-2\.0 bravo-1\.0 demo-pkg-1\.0 natlib-1\.0 tiny-sdist-0\.1/);
});

test('a locked file whose bytes changed in the source, and a pin the source lacks: exit 1 naming each, nothing at OUTDIR', async () => {
  const broken = join(work.path, 'broken-source');
  mkdirSync(join(broken, 'demo-pkg'), { recursive: true });
  const good = await makeWheel(join(broken, 'demo-pkg'), { name: 'demo-pkg', version: '1.0' });
  const other = await makeWheel(join(broken, 'demo-pkg'), { name: 'demo-pkg', version: '2.0' });
  assert.equal(cli(['mirror', 'index', broken]).status, 0);
  const brokenLock = join(work.path, 'broken.lock');
  const ghostHash = 'ab'.repeat(32);
  writeFileSync(
    brokenLock,
    `${renderLock([
      ['demo-pkg==1.0', [good]],
      ['demo-pkg==2.0', [other]],
    ])}ghost==1.0 \\\n    --hash=sha256:${ghostHash}\n`,
  );
  const expected = sha256Of(other);
  const bytes = readFileSync(other);
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1; // same size: only a hash tells
  writeFileSync(other, bytes);
  const out = join(work.path, 'broken-out');
  const result = cli(['mirror', 'export', brokenLock, out, '--from', broken]);
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, new RegExp(`missing: ghost==1\\.0 \\(sha256 ${ghostHash}\\)`));
  assert.match(
    result.stderr,
    new RegExp(`mismatch: ${other.replaceAll('.', '\\.')} \\(demo-pkg==2\\.0: expected sha256 ${expected}, got ${sha256Of(other)}\\)`),
  );
  assert.doesNotMatch(result.stderr, /demo_pkg-1\.0/);
  assert.equal(existsSync(out), false);
  assert.equal(readdirSync(work.path).filter((n) => n.includes('.export-')).length, 0, 'no temp directory left');
  // An empty OUTDIR given by the user stays (empty).
  mkdirSync(out);
  assert.equal(cli(['mirror', 'export', brokenLock, out, '--from', broken]).status, 1);
  assert.deepEqual(readdirSync(out), []);
});

test('bad usage is exit 2 with one line: arguments, a missing lock, a lock that is not one, a non-empty OUTDIR, an unindexed source', () => {
  const expectUsage = (args: string[], pattern: RegExp) => {
    const result = cli(['mirror', 'export', ...args]);
    assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, pattern);
  };
  expectUsage([lock], /LOCKFILE OUTDIR/);
  expectUsage([join(work.path, 'nope.lock'), join(work.path, 'x')], /LOCKFILE: no such file/);
  const notLock = join(work.path, 'not-a-lock.txt');
  writeFileSync(notLock, 'requests>=2\n');
  expectUsage([notLock, join(work.path, 'x'), '--from', source], /lock file: line 1 is not a pin/);
  const full = join(work.path, 'full-out');
  mkdirSync(full);
  writeFileSync(join(full, 'keep'), 'x');
  expectUsage([lock, full, '--from', source], /output directory .* is not empty/);
  assert.deepEqual(readdirSync(full), ['keep']);
  const bare = join(work.path, 'bare');
  mkdirSync(bare);
  expectUsage([lock, join(work.path, 'x'), '--from', bare], /source mirror .* has no index yet/);
  expectUsage([lock, join(work.path, 'x')], /the default mirror: not a directory: .*no-cache\/pypi\/mirror/);
  assert.equal(existsSync(join(work.path, 'x')), false);
});
