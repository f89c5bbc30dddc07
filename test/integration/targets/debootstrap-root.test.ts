// The bookworm root fixture: debootstrap runs once per machine (cached tarball, one build even with
// concurrent callers), each test gets its own fresh root in which Debian's pip runs chrooted, and
// disposing a root leaves nothing behind, not even a mount a test forgot.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  CACHE_DIR,
  cachedBookwormRoot,
  debianMirror,
  debootstrapProblem,
  makeBookwormRoot,
  mountsAtOrUnder,
  parseDeb822Sources,
} from '../../helpers/debootstrap-root.js';
import { isRequired, need } from '../../helpers/require.js';

const HELPER = fileURLToPath(new URL('../../helpers/debootstrap-root.js', import.meta.url));
const LONG = { timeout: 10 * 60_000 };

function canRun(t: TestContext): boolean {
  const problem = debootstrapProblem();
  if (problem !== undefined && !isRequired) console.log(`skipping: ${problem}`);
  return need(t, problem === undefined, problem ?? '');
}

/** Run `argv` inside `root` in a private mount namespace with /proc mounted in the root. */
function inRoot(root: string, argv: string[]): { status: number | null; stdout: string; stderr: string } {
  const script = 'mount -t proc proc "$1/proc" && r="$1" && shift && exec chroot "$r" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"';
  const result = spawnSync('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', root, ...argv], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

test('the Debian mirror comes from deb822 sources: the suite itself, never debian-security', () => {
  const text = [
    '# a comment',
    'Types: deb',
    'URIs: http://mirror.invalid/debian-security',
    'Suites: bookworm-security',
    'Components: main',
    '',
    'Types: deb-src',
    'URIs: http://source-only.invalid/debian',
    'Suites: bookworm',
    '',
    'Types: deb',
    'URIs: https://other.invalid/node',
    'Suites: nodistro',
    '',
    'Types: deb',
    '# snapshot: http://snapshot.invalid/archive/debian/20250520T000000Z',
    'URIs: http://mirror.invalid/debian/',
    'Suites: bookworm bookworm-updates',
    'Components: main',
    'Signed-By: /nonexistent/keyring.gpg',
    '',
  ].join('\n');
  const sources = parseDeb822Sources(text);
  assert.deepEqual(
    sources.map((s) => s.uri),
    ['http://mirror.invalid/debian-security', 'https://other.invalid/node', 'http://mirror.invalid/debian/'],
  );
  assert.deepEqual(debianMirror(sources), { url: 'http://mirror.invalid/debian' });
  assert.equal(debianMirror(sources.slice(0, 2)), undefined);
});

test('a fresh root has Debian python3 and pip, runnable chrooted with /proc mounted', LONG, async (t) => {
  if (!canRun(t)) return;
  let started = Date.now();
  const tar = await cachedBookwormRoot();
  t.diagnostic(`cached root ${tar} (${(statSync(tar).size / 1e6).toFixed(0)} MB) ready in ${seconds(Date.now() - started)}`);
  assert.ok(tar.startsWith(`${CACHE_DIR}/`) && /\/bookworm-minbase-[a-z0-9]+-[0-9a-f]{16}\.tar$/.test(tar), tar);
  assert.ok(existsSync(tar.replace(/\.tar$/, '.json')));

  started = Date.now();
  await using fresh = await makeBookwormRoot();
  t.diagnostic(`extracted ${fresh.root} in ${seconds(Date.now() - started)}`);
  const { root } = fresh;
  assert.ok(root.startsWith('/var/tmp/'));
  assert.equal(statSync(root).mode & 0o7777, 0o755, "the root directory gets the tarball's mode, not mkdtemp's 0700");
  assert.ok(lstatSync(join(root, 'usr/bin/python3')).isSymbolicLink());
  assert.ok(existsSync(join(root, 'usr/lib/python3/dist-packages/pip')));
  assert.match(readFileSync(join(root, 'etc/os-release'), 'utf8'), /VERSION_CODENAME=bookworm/);
  // tar -p with numeric owners kept what a real root has: device nodes, setuid bits, group owners.
  assert.ok(statSync(join(root, 'dev/null')).isCharacterDevice());
  const passwd = statSync(join(root, 'usr/bin/passwd'));
  assert.equal(passwd.mode & 0o4000, 0o4000);
  assert.equal(passwd.uid, 0);
  const shadow = statSync(join(root, 'etc/shadow'));
  assert.equal(shadow.mode & 0o777, 0o640);
  assert.equal(shadow.gid, 42);
  // No trace of the build host.
  assert.equal(readFileSync(join(root, 'etc/hostname'), 'utf8'), 'localhost\n');
  assert.equal(readFileSync(join(root, 'etc/resolv.conf'), 'utf8'), '');
  assert.deepEqual(
    readdirSync(join(root, 'var/cache/apt/archives')).filter((n) => n.endsWith('.deb')),
    [],
  );

  const pip = inRoot(root, ['/usr/bin/python3', '-m', 'pip', '--version']);
  assert.equal(pip.status, 0, pip.stderr);
  assert.match(pip.stdout, /^pip 23\.0\.1 from \/usr\/lib\/python3\/dist-packages\/pip \(python 3\.11\)/);
  const modules = inRoot(root, ['/usr/bin/python3', '-c', 'import setuptools, wheel, ssl, sqlite3; print("ok")']);
  assert.equal(modules.status, 0, modules.stderr);
  // The /proc mount stayed in the private namespace.
  assert.deepEqual(mountsAtOrUnder(root), []);
  assert.deepEqual(readdirSync(join(root, 'proc')), []);
});

test('two roots from the cache are independent copies', LONG, async (t) => {
  if (!canRun(t)) return;
  await using a = await makeBookwormRoot();
  const started = Date.now();
  await using b = await makeBookwormRoot();
  t.diagnostic(`second root extracted in ${seconds(Date.now() - started)}`);
  assert.notEqual(a.root, b.root);
  writeFileSync(join(a.root, 'etc/hostname'), 'changed\n');
  writeFileSync(join(a.root, 'usr/lib/python3/dist-packages/pip/__init__.py'), 'raise SystemExit("broken in a")\n');
  mkdirSync(join(a.root, 'only-in-a'));
  rmSync(join(a.root, 'usr/bin/passwd'));
  assert.equal(readFileSync(join(b.root, 'etc/hostname'), 'utf8'), 'localhost\n');
  assert.ok(!existsSync(join(b.root, 'only-in-a')));
  assert.ok(existsSync(join(b.root, 'usr/bin/passwd')));
  assert.notEqual(statSync(join(a.root, 'usr/bin/dpkg')).ino, statSync(join(b.root, 'usr/bin/dpkg')).ino);
  assert.notEqual(inRoot(a.root, ['/usr/bin/python3', '-m', 'pip', '--version']).status, 0);
  assert.equal(inRoot(b.root, ['/usr/bin/python3', '-m', 'pip', '--version']).status, 0);
  // And the cache itself is untouched: a third copy is pristine too.
  await using c = await makeBookwormRoot();
  assert.equal(readFileSync(join(c.root, 'etc/hostname'), 'utf8'), 'localhost\n');
});

test('dispose leaves nothing behind, and unmounts what a test left mounted inside the root first', LONG, async (t) => {
  if (!canRun(t)) return;
  const plain = await makeBookwormRoot();
  await plain[Symbol.asyncDispose]();
  assert.ok(!existsSync(plain.root));
  await plain[Symbol.asyncDispose](); // idempotent

  const busy = await makeBookwormRoot();
  const mnt = join(busy.root, 'mnt');
  const run = (argv: string[]) => assert.equal(spawnSync(argv[0] as string, argv.slice(1), { stdio: 'inherit' }).status, 0, argv.join(' '));
  // Mounts in this process's namespace (what a forgetful test would leave): nested, and /proc.
  try {
    run(['mount', '-t', 'tmpfs', 'tmpfs', mnt]);
    mkdirSync(join(mnt, 'inner'));
    run(['mount', '-t', 'tmpfs', 'tmpfs', join(mnt, 'inner')]);
    writeFileSync(join(mnt, 'inner', 'file'), 'data\n');
    run(['mount', '-t', 'proc', 'proc', join(busy.root, 'proc')]);
    assert.deepEqual(mountsAtOrUnder(busy.root), [mnt, join(mnt, 'inner'), join(busy.root, 'proc')]);
  } catch (error) {
    for (const m of mountsAtOrUnder(busy.root).reverse()) spawnSync('umount', ['-l', m]);
    throw error;
  }
  await busy[Symbol.asyncDispose]();
  assert.deepEqual(mountsAtOrUnder(busy.root), []);
  assert.ok(!existsSync(busy.root));
  // (Not a listing of /var/tmp: other test processes may be making roots there meanwhile.)
});

test("concurrent processes build a cached file once, and clear a crashed build's work dir", { timeout: 60_000 }, async (t) => {
  if (!canRun(t)) return;
  mkdirSync(CACHE_DIR, { recursive: true });
  const dir = mkdtempSync(join(CACHE_DIR, 'build-once-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const target = join(dir, 'thing.tar');
  const builds = join(dir, 'builds.log');
  mkdirSync(join(dir, 'thing.tar.build-crashed/root/proc'), { recursive: true }); // left by a killed build
  // Each child: buildOnce with a slow build that logs itself; prints what it read from the target.
  const script = `
    import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
    import { join } from 'node:path';
    const { buildOnce } = await import(process.argv[1]);
    const [target, builds] = process.argv.slice(2);
    const got = await buildOnce(target, async (work) => {
      appendFileSync(builds, process.pid + '\\n');
      const out = join(work, 'out');
      writeFileSync(out, 'half');
      await new Promise((r) => setTimeout(r, 700));
      writeFileSync(out, 'built by ' + process.pid);
      return out;
    });
    process.stdout.write(readFileSync(got, 'utf8'));
  `;
  const child = () =>
    new Promise<string>((resolve, reject) => {
      const p = spawn(process.execPath, ['--input-type=module', '-e', script, HELPER, target, builds], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.once('error', reject);
      p.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited ${code}`))));
    });
  const outputs = await Promise.all([child(), child(), child(), child()]);
  const builders = readFileSync(builds, 'utf8').trim().split('\n');
  assert.equal(builders.length, 1, `built ${builders.length} times`);
  assert.deepEqual(outputs, Array(4).fill(`built by ${builders[0]}`));
  assert.deepEqual(readdirSync(dir).sort(), ['builds.log', 'thing.tar', 'thing.tar.lock']);
  // Reuse: a later caller does not build.
  assert.equal(await child(), `built by ${builders[0]}`);
  assert.equal(readFileSync(builds, 'utf8').trim().split('\n').length, 1);
});
