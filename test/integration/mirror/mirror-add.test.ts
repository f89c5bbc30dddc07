// `dib-pypi mirror add` against real pip (Debian's 23.0.1 and the python3 on PATH) and a local upstream index served over
// HTTP on 127.0.0.1 and read over file://: dependencies, extras, odd names, sdists, targets, lock file, conflicts, failures.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, normalize, sep } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { execa } from 'execa';
import { cleanEnv, runCliAsync, type CliResult } from '../../helpers/cli.js';
import { makeSdist, makeWheel, writeSimpleIndex } from '../../helpers/make-dist.js';
import { DEBIAN_PYTHON, debianPipProblem, envWithoutPip, makeTempDir } from '../../helpers/python.js';
import { need } from '../../helpers/require.js';

interface Upstream {
  dir: string;
  url: string;
  requests: string[];
  server: Server;
}

let upstream: Upstream | undefined;
const work = makeTempDir('dib-pypi-mirror-add-');

/** A static file server over `root` on 127.0.0.1 (directories answer with their index.html), recording request paths. */
async function serveStatic(root: string): Promise<{ url: string; requests: string[]; server: Server }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    requests.push(path);
    let file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(404).end();
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': file.endsWith('.html') ? 'text/html' : 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { url: `http://127.0.0.1:${address.port}/`, requests, server };
}

/** The upstream: dependencies between projects, an extra, an odd name, an sdist-only project, requires-python, platform wheels. */
async function makeUpstream(dir: string): Promise<void> {
  await makeWheel(dir, {
    name: 'Demo.Pkg',
    version: '1.0',
    requires: ['dep-lib>=1', 'extra-only; extra == "fancy"'],
    providesExtra: ['fancy'],
    requiresPython: '>=3.7',
  });
  await makeWheel(dir, { name: 'dep_lib', version: '1.0' });
  await makeWheel(dir, { name: 'dep_lib', version: '2.0', requires: ['Zope.Interface_Thing>=3'] });
  await makeWheel(dir, { name: 'extra-only', version: '0.5' });
  await makeWheel(dir, { name: 'Zope.Interface_Thing', version: '3.1' });
  makeSdist(dir, { name: 'tiny-sdist', version: '0.1' });
  await makeWheel(dir, { name: 'newpy', version: '1.0', requiresPython: '>=3.8' });
  await makeWheel(dir, { name: 'newpy', version: '2.0', requiresPython: '>=3.11' });
  await makeWheel(dir, { name: 'natlib', version: '1.0', tag: 'py3-none-manylinux2014_x86_64' });
  await makeWheel(dir, { name: 'natlib', version: '1.0', tag: 'py3-none-win_amd64' });
  await makeWheel(dir, { name: 'unused', version: '1.0' });
  writeSimpleIndex(dir);
}

before(async () => {
  const dir = join(work.path, 'upstream');
  await makeUpstream(dir);
  upstream = { dir, ...(await serveStatic(dir)) };
});

after(async () => {
  if (upstream) await new Promise((resolve) => upstream?.server.close(resolve));
  work.remove();
});

function up(): Upstream {
  if (upstream === undefined) throw new Error('upstream not set up');
  return upstream;
}

/**
 * The environment the CLI runs in: this machine's PIP_* variables and pip.conf files stay, and
 * hostile ones are added; if any of them reached pip, these runs would find nothing or fail.
 */
function hostileEnv(): Record<string, string> {
  const conf = join(work.path, 'hostile-pip.conf');
  writeFileSync(conf, '[global]\nno-index = true\nindex-url = http://127.0.0.1:9/nothing/\nonly-binary = :all:\n');
  const machinePip = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('PIP_') && e[1] !== undefined));
  return { ...cleanEnv(), ...machinePip, PIP_CONFIG_FILE: conf, PIP_NO_INDEX: '1', PIP_INDEX_URL: 'http://127.0.0.1:9/nothing/', PIP_ONLY_BINARY: ':all:' };
}

async function addCli(args: string[]): Promise<CliResult> {
  return runCliAsync(['mirror', 'add', ...args], { env: hostileEnv(), cwd: work.path });
}

function sha256Of(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** `project/file` of every distribution file in the mirror (generated pages and state left out). */
function mirrorFiles(dir: string): string[] {
  const files: string[] = [];
  for (const project of readdirSync(dir).sort()) {
    if (project.startsWith('.') || !statSync(join(dir, project)).isDirectory()) continue;
    for (const name of readdirSync(join(dir, project)).sort()) {
      if (/\.(whl|tar\.gz)$/.test(name)) files.push(`${project}/${name}`);
    }
  }
  return files;
}

/** What the lock must say: header, then `project==version [; marker]` and a hash line per upstream (or mirror) file. */
function expectedLock(name: string, targets: string, pins: [string, string | undefined, string[]][]): string {
  const lines = [
    '# Written by `dib-pypi mirror add`: every project it resolved, pinned, with the sha256 of every',
    '# file of that version in the mirror, so the same lock installs on each target. Install with',
    `#   pip install --require-hashes --index-url file:///tmp/pypi -r ${name}`,
    `# Targets: ${targets}`,
  ];
  for (const [pin, marker, paths] of pins) {
    const hashes = [...new Set(paths.map(sha256Of))].sort().map((h) => `    --hash=sha256:${h}`);
    lines.push([`${pin}${marker === undefined ? '' : ` ; ${marker}`}`, ...hashes].join(' \\\n'));
  }
  return lines.join('\n') + '\n';
}

function expectOk(result: CliResult): void {
  assert.equal(result.status, 0, `mirror add failed:\n${result.stderr}\n${result.stdout}`);
}

async function pythonVersionOf(python: string): Promise<string> {
  const { stdout } = await execa(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { env: envWithoutPip(process.env), extendEnv: false });
  return stdout.trim();
}

/** `pip install` with only the mirror as index, no cache, no config: what an offline image build does. */
async function installFromMirror(python: string, mirror: string, target: string, args: string[]) {
  const env = envWithoutPip(process.env, { PIP_CONFIG_FILE: '/dev/null' });
  const pipArgs = [
    '-m',
    'pip',
    '--isolated',
    '--disable-pip-version-check',
    'install',
    '--no-cache-dir',
    '--index-url',
    `file://${mirror}`,
    '--target',
    target,
    ...args,
  ];
  return execa(python, pipArgs, { env, extendEnv: false, reject: false, all: true });
}

async function skipWithoutDebianPip(t: TestContext): Promise<boolean> {
  const problem = await debianPipProblem();
  return need(t, problem === undefined, problem ?? '');
}

const U = (file: string) => join(up().dir, file);

test('Debian pip over HTTP: requirements, transitive deps, extras, odd names, an sdist; lock; second run skips; offline install', async (t) => {
  if (!(await skipWithoutDebianPip(t))) return;
  const mirror = join(work.path, 'http-mirror');
  const lock = join(work.path, 'http.lock');
  writeFileSync(join(work.path, 'req.txt'), 'tiny-sdist\nnewpy\n');
  const args = [
    mirror,
    '--python',
    DEBIAN_PYTHON,
    '--index-url',
    up().url,
    '-r',
    'req.txt',
    'demo.pkg[fancy]',
    '--no-build-isolation',
    '--no-cache-dir',
    '--lock',
    lock,
  ];
  const requestsBefore = up().requests.length;
  const first = await addCli([...args, '--json']);
  expectOk(first);
  assert.ok(up().requests.length > requestsBefore, 'pip never asked the HTTP upstream');

  const files = [
    'demo-pkg/demo_pkg-1.0-py3-none-any.whl',
    'dep-lib/dep_lib-2.0-py3-none-any.whl',
    'extra-only/extra_only-0.5-py3-none-any.whl',
    'newpy/newpy-2.0-py3-none-any.whl',
    'tiny-sdist/tiny_sdist-0.1.tar.gz',
    'zope-interface-thing/zope_interface_thing-3.1-py3-none-any.whl',
  ];
  assert.deepEqual(mirrorFiles(mirror), files);
  for (const file of files) assert.equal(sha256Of(join(mirror, file)), sha256Of(U(file.split('/')[1] as string)), file);
  const summary = JSON.parse(first.stdout) as { added: { path: string; size: number }[]; skipped: unknown[]; bytesAdded: number; index: { files: number } };
  assert.deepEqual(
    summary.added.map((f) => f.path),
    files,
  );
  assert.equal(summary.skipped.length, 0);
  assert.equal(
    summary.bytesAdded,
    files.reduce((sum, f) => sum + statSync(join(mirror, f)).size, 0),
  );
  assert.equal(summary.index.files, 6);
  assert.ok(existsSync(join(mirror, 'zope-interface-thing', 'index.html')), 'mirror was not re-indexed');

  const python = await pythonVersionOf(DEBIAN_PYTHON);
  const lockText = expectedLock('http.lock', `native (python ${python}, linux)`, [
    ['demo-pkg==1.0', undefined, [U('demo_pkg-1.0-py3-none-any.whl')]],
    ['dep-lib==2.0', undefined, [U('dep_lib-2.0-py3-none-any.whl')]],
    ['extra-only==0.5', undefined, [U('extra_only-0.5-py3-none-any.whl')]],
    ['newpy==2.0', undefined, [U('newpy-2.0-py3-none-any.whl')]],
    ['tiny-sdist==0.1', undefined, [U('tiny_sdist-0.1.tar.gz')]],
    ['zope-interface-thing==3.1', undefined, [U('zope_interface_thing-3.1-py3-none-any.whl')]],
  ]);
  assert.equal(readFileSync(lock, 'utf8'), lockText);

  // Second run: everything is there with the same bytes.
  const second = await addCli(args);
  expectOk(second);
  assert.match(second.stdout, /^added 0 file\(s\) \(0 bytes\) to .*, skipped 6 already there$/m);
  assert.deepEqual(mirrorFiles(mirror), files);
  assert.equal(readFileSync(lock, 'utf8'), lockText);
  assert.match(second.stderr, /saved demo_pkg-1\.0-py3-none-any\.whl/, 'plain progress lines when stderr is not a terminal');

  // Offline: only the mirror as index, with and without the lock.
  await using target = makeTempDir('dib-pypi-add-install-');
  const installed = await installFromMirror(DEBIAN_PYTHON, mirror, target.path, ['--no-build-isolation', 'demo.pkg[fancy]', 'tiny-sdist', 'newpy']);
  assert.equal(installed.exitCode, 0, installed.all);
  for (const d of ['demo_pkg-1.0', 'dep_lib-2.0', 'extra_only-0.5', 'zope_interface_thing-3.1', 'tiny_sdist-0.1', 'newpy-2.0']) {
    assert.ok(existsSync(join(target.path, `${d}.dist-info`)), `${d} not installed:\n${installed.all}`);
  }
  await using locked = makeTempDir('dib-pypi-add-locked-');
  const fromLock = await installFromMirror(DEBIAN_PYTHON, mirror, locked.path, ['--no-build-isolation', '--require-hashes', '-r', lock]);
  assert.equal(fromLock.exitCode, 0, fromLock.all);
  assert.match(fromLock.all ?? '', /Successfully installed demo-pkg-1\.0 dep-lib-2\.0 extra-only-0\.5 newpy-2\.0 tiny-sdist-0\.1 zope-interface-thing-3\.1/);
});

test("a second mirror add merges into the lock: both runs' projects, sorted, a re-resolved project changed; a foreign file at --lock is refused", async (t) => {
  if (!(await skipWithoutDebianPip(t))) return;
  const mirror = join(work.path, 'merge-mirror');
  const lock = join(work.path, 'merge.lock');
  const base = [mirror, '--python', DEBIAN_PYTHON, '--index-url', up().url, '--no-cache-dir', '--lock', lock];
  expectOk(await addCli([...base, 'newpy', 'dep-lib==1.0']));
  const second = await addCli([...base, 'unused', 'dep-lib==2.0']);
  expectOk(second);
  const python = await pythonVersionOf(DEBIAN_PYTHON);
  assert.equal(
    readFileSync(lock, 'utf8'),
    expectedLock('merge.lock', `native (python ${python}, linux)`, [
      ['dep-lib==2.0', undefined, [U('dep_lib-2.0-py3-none-any.whl')]],
      ['newpy==2.0', undefined, [U('newpy-2.0-py3-none-any.whl')]],
      ['unused==1.0', undefined, [U('unused-1.0-py3-none-any.whl')]],
      ['zope-interface-thing==3.1', undefined, [U('zope_interface_thing-3.1-py3-none-any.whl')]],
    ]),
  );
  assert.match(second.stdout, /^lock: 2 pin\(s\) added, 1 project\(s\) changed, 0 unchanged, 1 kept from earlier runs$/m);
  assert.match(second.stdout, /^ {2}\+ unused==1\.0$/m);
  assert.match(second.stdout, /^ {2}\+ zope-interface-thing==3\.1$/m);
  assert.match(second.stdout, /^ {2}~ dep-lib: dep-lib==1\.0 -> dep-lib==2\.0$/m);

  // --json says the same; a run that changes nothing leaves the same bytes.
  const before = readFileSync(lock, 'utf8');
  const third = await addCli([...base, 'newpy', '--json']);
  expectOk(third);
  assert.deepEqual((JSON.parse(third.stdout) as { lockChanges: unknown }).lockChanges, {
    added: [],
    changed: [],
    kept: ['dep-lib==2.0', 'unused==1.0', 'zope-interface-thing==3.1'],
    unchanged: ['newpy==2.0'],
  });
  assert.equal(readFileSync(lock, 'utf8'), before);

  // A file mirror add did not write is never replaced, and the run stops before pip.
  const foreign = join(work.path, 'mine.lock');
  writeFileSync(foreign, 'requests==2.0\n');
  const refused = await addCli([mirror, '--python', DEBIAN_PYTHON, '--index-url', up().url, 'unused', '--lock', foreign]);
  assert.equal(refused.status, 2, refused.stderr);
  assert.match(refused.stderr, /--lock: ".*mine\.lock" exists and was not written by dib-pypi mirror add/);
  assert.equal(readFileSync(foreign, 'utf8'), 'requests==2.0\n');
});

test('a file in the mirror with other bytes is refused, and nothing is added', async (t) => {
  if (!(await skipWithoutDebianPip(t))) return;
  const mirror = join(work.path, 'conflict-mirror');
  mkdirSync(join(mirror, 'dep-lib'), { recursive: true });
  writeFileSync(join(mirror, 'dep-lib', 'dep_lib-1.0-py3-none-any.whl'), 'not the upstream bytes');
  const result = await addCli([mirror, '--python', DEBIAN_PYTHON, '--index-url', up().url, 'dep-lib==1.0', 'unused', '--no-lock']);
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, /dib-pypi: error: 1 downloaded file\(s\) differ from the file of the same name in the mirror; nothing was added/);
  assert.match(result.stderr, /dep-lib\/dep_lib-1\.0-py3-none-any\.whl \(in the mirror: sha256 [0-9a-f]{64}; downloaded: sha256 [0-9a-f]{64}\)/);
  assert.equal(readFileSync(join(mirror, 'dep-lib', 'dep_lib-1.0-py3-none-any.whl'), 'utf8'), 'not the upstream bytes');
  assert.deepEqual(readdirSync(mirror).sort(), ['.dib-pypi', 'dep-lib']);
  assert.deepEqual(readdirSync(join(mirror, '.dib-pypi')), [], 'the temp directory is gone');
});

test('python3 on PATH (pyenv pip) over file://: deps and extras, lock', async (t) => {
  const env = envWithoutPip(process.env, { PIP_CONFIG_FILE: '/dev/null' });
  const pip = await execa('python3', ['-m', 'pip', '--version'], { env, extendEnv: false, reject: false });
  if (!need(t, pip.exitCode === 0, `python3 on PATH has no pip: ${pip.stderr}`)) return;
  t.diagnostic(`python3 on PATH: ${pip.stdout}`);
  const mirror = join(work.path, 'file-mirror');
  const lock = join(work.path, 'file.lock');
  const result = await addCli([mirror, '--index-url', `file://${up().dir}`, 'Demo.Pkg[fancy]', 'newpy', '--no-cache-dir', '--lock', lock]);
  expectOk(result);
  assert.match(result.stderr, /using pip \S+ \(python [\d.]+, linux\) from python3/);
  assert.deepEqual(mirrorFiles(mirror), [
    'demo-pkg/demo_pkg-1.0-py3-none-any.whl',
    'dep-lib/dep_lib-2.0-py3-none-any.whl',
    'extra-only/extra_only-0.5-py3-none-any.whl',
    'newpy/newpy-2.0-py3-none-any.whl',
    'zope-interface-thing/zope_interface_thing-3.1-py3-none-any.whl',
  ]);
  const python = await pythonVersionOf('python3');
  assert.equal(
    readFileSync(lock, 'utf8'),
    expectedLock('file.lock', `native (python ${python}, linux)`, [
      ['demo-pkg==1.0', undefined, [U('demo_pkg-1.0-py3-none-any.whl')]],
      ['dep-lib==2.0', undefined, [U('dep_lib-2.0-py3-none-any.whl')]],
      ['extra-only==0.5', undefined, [U('extra_only-0.5-py3-none-any.whl')]],
      ['newpy==2.0', undefined, [U('newpy-2.0-py3-none-any.whl')]],
      ['zope-interface-thing==3.1', undefined, [U('zope_interface_thing-3.1-py3-none-any.whl')]],
    ]),
  );
  await using target = makeTempDir('dib-pypi-add-pyenv-install-');
  const installed = await installFromMirror('python3', mirror, target.path, ['--require-hashes', '-r', lock]);
  assert.equal(installed.exitCode, 0, installed.all);
  assert.ok(existsSync(join(target.path, 'zope_interface_thing-3.1.dist-info')), installed.all);
});

test('--build-wheels adds a wheel built from the sdist; a rebuild is byte-identical; installs with --only-binary :all:', async (t) => {
  if (!(await skipWithoutDebianPip(t))) return;
  const mirror = join(work.path, 'built-mirror');
  const lock = join(work.path, 'built.lock');
  const args = [
    mirror,
    '--python',
    DEBIAN_PYTHON,
    '--index-url',
    up().url,
    'tiny-sdist',
    '--build-wheels',
    '--no-build-isolation',
    '--no-cache-dir',
    '--lock',
    lock,
  ];
  const first = await addCli(args);
  expectOk(first);
  assert.deepEqual(mirrorFiles(mirror), ['tiny-sdist/tiny_sdist-0.1-py3-none-any.whl', 'tiny-sdist/tiny_sdist-0.1.tar.gz']);
  const python = await pythonVersionOf(DEBIAN_PYTHON);
  assert.equal(
    readFileSync(lock, 'utf8'),
    expectedLock('built.lock', `native (python ${python}, linux)`, [
      ['tiny-sdist==0.1', undefined, [join(mirror, 'tiny-sdist', 'tiny_sdist-0.1-py3-none-any.whl'), U('tiny_sdist-0.1.tar.gz')]],
    ]),
  );
  const second = await addCli(args);
  expectOk(second);
  assert.match(second.stdout, /skipped 2 already there/);
  assert.match(second.stdout, /= tiny-sdist\/tiny_sdist-0\.1-py3-none-any\.whl \(already in the mirror\)/);

  await using target = makeTempDir('dib-pypi-add-built-install-');
  const installed = await installFromMirror(DEBIAN_PYTHON, mirror, target.path, ['--only-binary', ':all:', '--require-hashes', '-r', lock]);
  assert.equal(installed.exitCode, 0, installed.all);
  assert.ok(existsSync(join(target.path, 'tiny_sdist-0.1.dist-info')), installed.all);
});

test('two Python versions x two platforms: one pip download per target, per-target wheels, markers in the lock', async (t) => {
  if (!(await skipWithoutDebianPip(t))) return;
  const mirror = join(work.path, 'targets-mirror');
  const lock = join(work.path, 'targets.lock');
  const targets = ['--python-version', '3.9', '--python-version', '3.11', '--platform', 'manylinux2014_x86_64', '--platform', 'win_amd64'];
  const result = await addCli([
    mirror,
    '--python',
    DEBIAN_PYTHON,
    '--index-url',
    up().url,
    ...targets,
    'newpy',
    'natlib',
    'demo.pkg',
    '--no-cache-dir',
    '--lock',
    lock,
  ]);
  expectOk(result);
  assert.match(result.stderr, /foreign targets take wheels only: added --only-binary=:all:/);
  for (const label of ['1/4 py3.9-manylinux2014_x86_64', '2/4 py3.9-win_amd64', '3/4 py3.11-manylinux2014_x86_64', '4/4 py3.11-win_amd64']) {
    assert.ok(result.stderr.includes(`[${label}] pip download`), `no run for ${label}:\n${result.stderr}`);
  }
  assert.deepEqual(mirrorFiles(mirror), [
    'demo-pkg/demo_pkg-1.0-py3-none-any.whl',
    'dep-lib/dep_lib-2.0-py3-none-any.whl',
    'natlib/natlib-1.0-py3-none-manylinux2014_x86_64.whl',
    'natlib/natlib-1.0-py3-none-win_amd64.whl',
    'newpy/newpy-1.0-py3-none-any.whl',
    'newpy/newpy-2.0-py3-none-any.whl',
    'zope-interface-thing/zope_interface_thing-3.1-py3-none-any.whl',
  ]);
  const labels =
    'py3.9-manylinux2014_x86_64 (python 3.9, linux); py3.9-win_amd64 (python 3.9, win32); py3.11-manylinux2014_x86_64 (python 3.11, linux); py3.11-win_amd64 (python 3.11, win32)';
  assert.equal(
    readFileSync(lock, 'utf8'),
    expectedLock('targets.lock', labels, [
      ['demo-pkg==1.0', undefined, [U('demo_pkg-1.0-py3-none-any.whl')]],
      ['dep-lib==2.0', undefined, [U('dep_lib-2.0-py3-none-any.whl')]],
      ['natlib==1.0', undefined, [U('natlib-1.0-py3-none-manylinux2014_x86_64.whl'), U('natlib-1.0-py3-none-win_amd64.whl')]],
      ['newpy==1.0', 'python_version == "3.9"', [U('newpy-1.0-py3-none-any.whl')]],
      ['newpy==2.0', 'python_version == "3.11"', [U('newpy-2.0-py3-none-any.whl')]],
      ['zope-interface-thing==3.1', undefined, [U('zope_interface_thing-3.1-py3-none-any.whl')]],
    ]),
  );

  // The one lock serves every target. pip evaluates a requirement's marker against the interpreter
  // it runs in, even under --python-version, so select the pins for python 3.9 on Windows with
  // pip's own marker code, then resolve them from the mirror alone with the hashes checked.
  const env = envWithoutPip(process.env, { PIP_CONFIG_FILE: '/dev/null' });
  const selectForTarget = [
    'import re, sys',
    'from pip._vendor.packaging.markers import Marker',
    'text = open(sys.argv[1]).read().replace(chr(92) + chr(10), " ")',
    'for line in text.splitlines():',
    '    if line.startswith("#"): continue',
    '    pin, _, rest = line.partition(" --hash")',
    '    spec, _, marker = pin.partition(";")',
    '    if marker.strip() and not Marker(marker.strip()).evaluate({"python_version": "3.9", "sys_platform": "win32"}): continue',
    '    print(spec.strip(), "--hash" + rest)',
  ].join('\n');
  const selected = await execa(DEBIAN_PYTHON, ['-c', selectForTarget, lock], { env, extendEnv: false });
  const win39Lock = join(work.path, 'win39.lock');
  writeFileSync(win39Lock, selected.stdout + '\n');
  assert.match(selected.stdout, /^newpy==1\.0 --hash=sha256:[0-9a-f]{64}$/m);
  await using fetched = makeTempDir('dib-pypi-add-win39-');
  const win = await execa(
    DEBIAN_PYTHON,
    [
      '-m',
      'pip',
      '--isolated',
      '--disable-pip-version-check',
      'download',
      '--no-cache-dir',
      '--index-url',
      `file://${mirror}`,
      '-d',
      fetched.path,
      '--python-version',
      '3.9',
      '--platform',
      'win_amd64',
      '--only-binary=:all:',
      '--require-hashes',
      '-r',
      win39Lock,
    ],
    { env, extendEnv: false, reject: false, all: true },
  );
  assert.equal(win.exitCode, 0, win.all);
  assert.deepEqual(readdirSync(fetched.path).sort(), [
    'demo_pkg-1.0-py3-none-any.whl',
    'dep_lib-2.0-py3-none-any.whl',
    'natlib-1.0-py3-none-win_amd64.whl',
    'newpy-1.0-py3-none-any.whl',
    'zope_interface_thing-3.1-py3-none-any.whl',
  ]);
  // ... and installs it here (python 3.11, linux).
  await using target = makeTempDir('dib-pypi-add-targets-install-');
  const installed = await installFromMirror(DEBIAN_PYTHON, mirror, target.path, ['--require-hashes', '-r', lock]);
  assert.equal(installed.exitCode, 0, installed.all);
  assert.match(installed.all ?? '', /Successfully installed demo-pkg-1\.0 dep-lib-2\.0 natlib-1\.0 newpy-2\.0 zope-interface-thing-3\.1/);
});

test('pip failing for one target: exit 1 naming target and requirement, credentials redacted, nothing moved', async (t) => {
  if (!(await skipWithoutDebianPip(t))) return;
  const mirror = join(work.path, 'failing-mirror');
  mkdirSync(mirror);
  writeFileSync(join(mirror, 'keep.txt'), 'untouched\n');
  const url = up().url.replace('http://', 'http://user:s3cret@');
  // newpy==2.0 resolves for 3.11 (the first run) but not for 3.9 (the second).
  const result = await addCli([
    mirror,
    '--python',
    DEBIAN_PYTHON,
    '--index-url',
    url,
    '--python-version',
    '3.11',
    '--python-version',
    '3.9',
    'newpy==2.0',
    'demo.pkg',
    '--lock',
    join(work.path, 'never.lock'),
  ]);
  assert.equal(result.status, 1, result.stderr);
  assert.match(
    result.stderr,
    /^dib-pypi: error: pip download failed for target py3\.9: Package 'newpy' requires a different Python: 3\.9\.0 not in '>=3\.11' \(exit code 1\)$/m,
  );
  assert.match(
    result.stderr,
    /^command: \/usr\/bin\/python3 -m pip --isolated .* --index-url http:\/\/user:\*\*\*@127\.0\.0\.1:\d+\/ --python-version 3\.9 --only-binary=:all: newpy==2\.0 demo\.pkg$/m,
  );
  assert.match(result.stderr, /^pip output:$/m);
  assert.ok(!result.stderr.includes('s3cret') && !result.stdout.includes('s3cret'), 'a credential was printed');
  assert.deepEqual(readdirSync(mirror).sort(), ['.dib-pypi', 'keep.txt']);
  assert.deepEqual(readdirSync(join(mirror, '.dib-pypi')), []);
  assert.ok(!existsSync(join(work.path, 'never.lock')));

  // A new mirror directory that a failed run would have created is not left behind.
  const fresh = join(work.path, 'never-mirror');
  const sdistForTarget = await addCli([fresh, '--python', DEBIAN_PYTHON, '--index-url', up().url, '--python-version', '3.9', 'tiny-sdist', '--no-lock']);
  assert.equal(sdistForTarget.status, 1, sdistForTarget.stderr);
  assert.match(sdistForTarget.stderr, /pip download failed for target py3\.9: No matching distribution found for tiny-sdist/);
  assert.ok(!existsSync(fresh));
});

test('usage errors exit 2; mirror --help lists add; mirror add --help explains every flag', async () => {
  const cases: [string[], RegExp][] = [
    [['mirror', 'add'], /expects DIR \[PKG\.\.\.\], got nothing/],
    [['mirror', 'add', 'm'], /nothing to add: give -r FILE or requirement specifiers/],
    [['mirror', 'add', 'm', 'x', '--platform', 'win_amd64', '--no-binary', ':all:'], /--no-binary: cannot take sdists/],
    [['mirror', 'add', 'm', 'x', '--python-version', 'three'], /--python-version: not a Python version/],
    [['mirror', 'add', 'm', 'x', '--lock', 'a', '--no-lock'], /--lock and --no-lock exclude each other/],
    [['mirror', 'add', 'm', '-r', 'missing.txt'], /--requirement: no such file: .*missing\.txt/],
    [['mirror', 'add', 'm', 'x', '--python', '/nonexistent/python'], /--python: cannot run "\/nonexistent\/python": not found/],
  ];
  for (const [args, message] of cases) {
    const result = await runCliAsync(args, { cwd: work.path });
    assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
  assert.ok(!existsSync(join(work.path, 'm')), 'a usage error created the mirror');
  const group = await runCliAsync(['mirror', '--help']);
  assert.equal(group.status, 0);
  assert.match(group.stdout, /^ {2}add +fill a mirror through pip/m);
  const help = await runCliAsync(['mirror', 'add', '--help']);
  assert.equal(help.status, 0);
  for (const flag of [
    '--requirement',
    '--python',
    '--index-url',
    '--extra-index-url',
    '--find-links',
    '--trusted-host',
    '--no-index',
    '--python-version',
    '--platform',
    '--implementation',
    '--abi',
    '--only-binary',
    '--no-binary',
    '--build-wheels',
    '--no-build-isolation',
    '--pre',
    '--no-cache-dir',
    '--lock',
    '--no-lock',
    '--verbose',
    '--json',
  ]) {
    assert.match(help.stdout, new RegExp(`^ +(-\\w, )?${flag}\\b`, 'm'), `${flag} missing from --help`);
  }
  assert.match(help.stdout, /--only-binary=:all:/);
});
