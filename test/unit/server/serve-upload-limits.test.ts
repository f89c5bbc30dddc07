// Pure parts of the upload server's limits: failed-login limiter, client keys, file identity, tar member checks, the dummy bcrypt hash, the upload form's name rules, the connection cap flag.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import bcrypt from 'bcryptjs';
import { LoginLimiter, clientKey } from '../../../src/server/login-limiter.js';
import { canonicalVersion, fileIdentity } from '../../../src/mirror/store/file-identity.js';
import { parseDistFilename } from '../../../src/pypi/dist-filename.js';
import { MAX_LINK_STEPS, tarMemberChecker } from '../../../src/mirror/inspect/tar-member-check.js';
import type { TarMember } from '../../../src/mirror/inspect/tar-scanner.js';
import { Authenticator, dummyHash, type PasswordHasher } from '../../../src/server/credentials.js';
import { UploadThreads } from '../../../src/server/upload-threads.js';
import { checkUpload } from '../../../src/server/upload-form.js';
import { parseLoginFailures, parseMaxConnections } from '../../../src/cli/serve-values.js';

test('LoginLimiter: 10 failures a minute, then 429 until the oldest ages out; success forgets; clients apart', () => {
  let now = 1_000_000;
  const limiter = new LoginLimiter({ maxFailures: 10, windowMs: 60_000, now: () => now });
  for (let i = 0; i < 9; i++) {
    limiter.fail('a');
    now += 1000;
  }
  assert.equal(limiter.retryAfter('a'), 0, '9 failures: still allowed');
  limiter.fail('a'); // the 10th, at +9 s
  assert.equal(limiter.retryAfter('a'), 51, 'blocked until the first failure is a minute old');
  assert.equal(limiter.retryAfter('b'), 0, 'another client is not blocked');
  now += 50_999;
  assert.equal(limiter.retryAfter('a'), 1);
  now += 1;
  assert.equal(limiter.retryAfter('a'), 0, 'the oldest failure aged out');
  limiter.fail('a');
  assert.ok(limiter.retryAfter('a') > 0, 'one more failure within the window blocks again');
  limiter.succeed('a');
  assert.equal(limiter.retryAfter('a'), 0, 'a success forgets the failures');
  now += 120_000;
  assert.equal(limiter.retryAfter('x'), 0);
});

test('LoginLimiter: remembers at most maxClients clients, forgetting the stalest', () => {
  const limiter = new LoginLimiter({ maxFailures: 1, maxClients: 3, now: () => 0 });
  for (const client of ['a', 'b', 'c', 'd']) limiter.fail(client);
  assert.equal(limiter.size, 3);
  assert.equal(limiter.retryAfter('a'), 0, 'a was forgotten');
  assert.ok(limiter.retryAfter('d') > 0);
});

test('clientKey: IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 by its /64', () => {
  const rows: [string | undefined, string][] = [
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['2001:db8:0:1:aaaa::1', '2001:db8:0:1::/64'],
    ['2001:db8:0:1:bbbb:cccc:dddd:eeee', '2001:db8:0:1::/64'],
    ['2001:0db8:0000:0001::', '2001:db8:0:1::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1', 'fe80:0:0:0::/64'],
    [undefined, 'unknown'],
  ];
  for (const [address, key] of rows) assert.equal(clientKey(address), key, String(address));
});

test('canonicalVersion and fileIdentity: one file under spellings that differ in case, separators, zeros', () => {
  for (const [a, b] of [
    ['1.0', '01.0'],
    ['1.0', '1.0.0'],
    ['1', '1.0'],
    ['1.0rc1', '1.0.0-RC1'],
    ['1.0.post1', '1.0-1'],
    ['1.0+Ubuntu-1', '1.0+ubuntu.1'],
    ['0!1.0', '1.0'],
  ]) {
    assert.equal(canonicalVersion(a as string), canonicalVersion(b as string), `${a} ~ ${b}`);
  }
  assert.notEqual(canonicalVersion('1.0'), canonicalVersion('1.0.1'));
  assert.notEqual(canonicalVersion('1.0'), canonicalVersion('1.0.dev0'));
  const identity = (name: string) => fileIdentity(name, parseDistFilename(name) ?? assert.fail(name));
  const same: [string, string][] = [
    ['NewPkg-1.0-py3-none-any.whl', 'newpkg-01.0-py3-none-any.whl'],
    ['new_pkg-1.0-py3-none-any.whl', 'New.Pkg-1.0.0-py3-none-any.whl'],
    ['demo-1.0-py2.py3-none-any.whl', 'demo-1.0-py3.py2-none-any.whl'],
    ['demo-1.0-1-py3-none-any.whl', 'demo-1.0-01-py3-none-any.whl'],
    ['Demo-1.0.tar.gz', 'demo-1.0.0.tar.gz'],
    ['demo.pkg-1.0.zip', 'demo_pkg-01.0.zip'],
  ];
  for (const [a, b] of same) assert.equal(identity(a), identity(b), `${a} = ${b}`);
  const different: [string, string][] = [
    ['demo-1.0-py3-none-any.whl', 'demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl'],
    ['demo-1.0-py3-none-any.whl', 'demo-1.0-1-py3-none-any.whl'],
    ['demo-1.0-py3-none-any.whl', 'demo-1.1-py3-none-any.whl'],
    ['demo-1.0.tar.gz', 'demo-1.0.zip'],
    ['demo-1.0.tar.gz', 'demo-1.0-py3-none-any.whl'],
    ['demo-1.0.tar.gz', 'demo2-1.0.tar.gz'],
  ];
  for (const [a, b] of different) assert.notEqual(identity(a), identity(b), `${a} != ${b}`);
});

const tarMember = (path: string, type = '0', linkPath?: string): TarMember => ({ path, type, size: 0, ...(linkPath === undefined ? {} : { linkPath }) });

/** Each member through one archive's checker, in order; the error of the first refused, or undefined. */
function checkArchive(members: TarMember[]): Error | undefined {
  const check = tarMemberChecker();
  try {
    for (const member of members) check(member);
  } catch (error) {
    return error as Error;
  }
  return undefined;
}

test('tarMemberChecker: what tarfile.data_filter refuses is refused', () => {
  const member = tarMember;
  for (const ok of [
    member('demo-1.0/PKG-INFO'),
    member('demo-1.0/', '5'),
    member('demo-1.0/a/link', '2', '../b'),
    member('demo-1.0/hard', '1', 'demo-1.0/PKG-INFO'),
    member('./demo-1.0/x'),
  ]) {
    assert.doesNotThrow(() => tarMemberChecker()(ok), ok.path);
  }
  const refused: [TarMember, RegExp][] = [
    [member('../evil'), /unsafe member name/],
    [member('demo-1.0/../../evil'), /unsafe member name/],
    [member('/etc/passwd'), /unsafe member name/],
    [member('demo-1.0/link', '2', '/etc/passwd'), /links outside/],
    [member('demo-1.0/link', '2', '../../etc'), /links outside/],
    [member('demo-1.0/hard', '1', '../etc/passwd'), /links outside/],
    [member('demo-1.0/dev', '3'), /device or FIFO/],
    [member('demo-1.0/blk', '4'), /device or FIFO/],
    [member('demo-1.0/fifo', '6'), /device or FIFO/],
  ];
  for (const [input, pattern] of refused) assert.throws(() => tarMemberChecker()(input), pattern, input.path);
});

test("tarMemberChecker: names and link targets are resolved through the archive's earlier symlinks, as os.path.realpath would", () => {
  const m = tarMember;
  // Each link alone stays inside; together `c` points at the directory above the archive root
  // (Python's data filter: LinkOutsideDestinationError "'evil-1.0/c' would link to ...").
  const chain = [
    m('evil-1.0/PKG-INFO'),
    m('evil-1.0/a', '2', '.'),
    m('evil-1.0/b', '2', 'a/..'),
    m('evil-1.0/c', '2', 'b/../b/..'),
    m('evil-1.0/b/escaped.txt'),
  ];
  assert.match(checkArchive(chain)?.message ?? 'accepted', /evil-1\.0\/c links outside the archive/);
  // A name that lands outside through a link whose target a later link moved out.
  const moved = [m('d/x', '2', '../y/..'), m('y', '2', '.'), m('d/x/file')];
  assert.match(checkArchive(moved)?.message ?? 'accepted', /d\/x\/file lands outside the archive/);
  // A link made through a symlinked parent resolves from where it is really made.
  assert.match(checkArchive([m('p/a', '2', '.'), m('p/a/b', '2', '..'), m('p/q', '2', 'a/b/..')])?.message ?? 'accepted', /p\/q links outside/);
  // A hard link to a symlink may be extracted as a copy of it: its target is checked from the hard link's place.
  assert.match(checkArchive([m('p/d/s', '2', '../x'), m('h', '1', 'p/d/s')])?.message ?? 'accepted', /h links outside/);
  assert.match(checkArchive([m('p/s', '2', '..'), m('h', '1', 'p/s/..')])?.message ?? 'accepted', /h links outside/);
  // Loops and over-long chains are refused, not followed.
  assert.match(checkArchive([m('p/a', '2', 'b'), m('p/b', '2', 'a')])?.message ?? 'accepted', /more than 40 symlinks/);
  assert.match(checkArchive([m('p/a', '2', 'a')])?.message ?? 'accepted', /more than 40 symlinks/);
  const long = Array.from({ length: MAX_LINK_STEPS + 1 }, (_, i) => m(`p/l${i}`, '2', i === 0 ? 'file' : `l${i - 1}`));
  assert.equal(checkArchive(long.slice(0, MAX_LINK_STEPS)), undefined, 'a chain of 40 links');
  assert.match(checkArchive(long)?.message ?? 'accepted', /more than 40 symlinks/);

  // Links that stay inside, however they get there, are kept.
  const legit = [
    m('demo-1.0/PKG-INFO'),
    m('demo-1.0/README'),
    m('demo-1.0/docs/', '5'),
    m('demo-1.0/docs/x', '2', '../README'),
    m('demo-1.0/docs/x2', '2', 'x'),
    m('demo-1.0/src', '2', 'lib'),
    m('demo-1.0/lib/', '5'),
    m('demo-1.0/src/mod.py'),
    m('demo-1.0/up', '2', '..'),
    m('demo-1.0/up/demo-1.0/again.txt'),
    m('demo-1.0/hard', '1', 'demo-1.0/docs/x'),
    m('demo-1.0/docs/x', '2', '../src/mod.py'),
  ];
  assert.equal(checkArchive(legit), undefined);
});

test("Authenticator: an unknown user costs one bcrypt comparison at the users' cost, like a known one", async () => {
  const calls: string[] = [];
  const hasher: PasswordHasher = {
    compare: async (_password, hash) => {
      calls.push(hash);
      return false;
    },
  };
  const users = new Map([
    ['alice', `$2y$07$${'a'.repeat(53)}`],
    ['bob', `$2b$11$${'b'.repeat(53)}`],
  ]);
  const auth = new Authenticator({ users }, hasher);
  assert.equal(await auth.check('mallory', 'pw'), false);
  assert.equal(await auth.check('__token__', 'pw'), false, 'no token set: __token__ is an unknown user');
  assert.equal(await auth.check('alice', 'pw'), false);
  assert.equal(calls.length, 3, 'one comparison each');
  assert.match(calls[0] as string, /^\$2b\$11\$[./A-Za-z0-9]{53}$/, 'the dummy has the dearest cost');
  assert.equal(calls[0], calls[1]);
  assert.match(dummyHash(new Map()), /^\$2b\$05\$/, "no users: htpasswd -B's default cost");
  // The dummy is a hash bcrypt can run (same work) and that matches nothing.
  assert.equal(bcrypt.compareSync('', dummyHash(new Map())), false);
});

test('UploadThreads: comparisons run on threads; the event loop keeps ticking meanwhile', async () => {
  const pool = new UploadThreads({ threads: 2 });
  const hash = bcrypt.hashSync('right', 12); // ~0.3 s of one core per comparison, in bcryptjs
  await Promise.all([pool.compare('warm', '$2b$04$' + 'a'.repeat(53)), pool.compare('up', '$2b$04$' + 'a'.repeat(53))]); // threads started
  let longestGap = 0;
  let last = Date.now();
  const ticker = setInterval(() => {
    const now = Date.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
  }, 5);
  try {
    const started = Date.now();
    const answers = await Promise.all([
      pool.compare('right', hash),
      pool.compare('wrong', hash),
      pool.compare('right', hash.replace(/^\$2b\$/, '$2y$')),
      pool.compare('x', 'not a hash'),
    ]);
    assert.deepEqual(answers, [true, false, true, false]);
    const took = Date.now() - started;
    assert.ok(took > 200, `cost 12 takes a while (${took} ms)`);
    // On the main thread each comparison would stall it for its whole cost; a busy machine may delay a tick a little.
    assert.ok(longestGap < took / 3, `the event loop stalled for ${longestGap} ms of ${took}`);
  } finally {
    clearInterval(ticker);
    await pool.close();
  }
});

test('UploadThreads: BLAKE2b-256 of a file, on a thread, as @noble/hashes computes it', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { blake2b } = await import('@noble/hashes/blake2.js');
  const dir = mkdtempSync(join(tmpdir(), 'dib-pypi-blake-'));
  const threads = new UploadThreads();
  try {
    for (const size of [0, 1, 1024 * 1024, 3 * 1024 * 1024 + 7]) {
      const bytes = Buffer.alloc(size, 0x5a);
      writeFileSync(join(dir, 'f'), bytes);
      assert.equal(await threads.blake2b256(join(dir, 'f')), Buffer.from(blake2b(bytes, { dkLen: 32 })).toString('hex'), `${size} bytes`);
    }
    await assert.rejects(threads.blake2b256(join(dir, 'missing')), /ENOENT/);
  } finally {
    await threads.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('UploadThreads: past maxPending, a comparison is refused at once (BcryptBusyError)', async () => {
  const pool = new UploadThreads({ threads: 1, maxPending: 2 });
  const hash = bcrypt.hashSync('pw', 8);
  const running = [pool.compare('a', hash), pool.compare('b', hash)];
  await assert.rejects(pool.compare('c', hash), /waiting already/);
  assert.deepEqual(await Promise.all(running), [false, false]);
  assert.equal(await pool.compare('pw', hash), true, 'room again once they finished');
  await pool.close();
});

test('upload form: file names are printable ASCII; sdists are .tar.gz or .zip (PEP 527)', () => {
  const form = (filename: string) => ({
    fields: new Map([
      [':action', 'file_upload'],
      ['name', 'demo'],
      ['version', '1.0'],
    ]),
    filename,
    received: { md5: '', sha256: '', blake2b256: '', size: 1 },
  });
  for (const [filename, pattern] of [
    ['demo-1.0-py3-none-linux_x86_64\u00e9.whl', /printable ASCII only/],
    ['demo-1.0-py3-none-any\u00a0.whl', /printable ASCII only/],
    ['demo-1.0 -py3-none-any.whl', /printable ASCII only/],
    ['demo-1.0.tar.bz2', /must be a \.tar\.gz or \.zip/],
    ['demo-1.0.tgz', /must be a \.tar\.gz or \.zip/],
    ['demo-1.0.tar', /must be a \.tar\.gz or \.zip/],
  ] as const) {
    const check = checkUpload(form(filename));
    assert.equal(check.ok, false, filename);
    assert.match(check.ok ? '' : check.message, pattern, filename);
  }
  assert.equal(checkUpload(form('demo-1.0.zip')).ok, true);
  assert.equal(checkUpload(form('demo-1.0.tar.gz')).ok, true);
});

test('--max-connections: a number, lowered under the open-files limit with a reason', () => {
  assert.deepEqual(parseMaxConnections(undefined, undefined), { max: 1024 });
  assert.deepEqual(parseMaxConnections(undefined, 20000), { max: 1024 });
  assert.deepEqual(parseMaxConnections('5000', 20000), { max: 5000 });
  const lowered = parseMaxConnections(undefined, 1024);
  assert.equal(lowered.max, 896);
  assert.match(lowered.lowered ?? '', /ulimit -n 1024/);
  for (const bad of ['0', '-1', 'many', '1e3', '']) assert.throws(() => parseMaxConnections(bad, undefined), /--max-connections|expected a number/);
});

test('--max-login-failures: a whole number, 0 for no limit', () => {
  assert.equal(parseLoginFailures(undefined), 10);
  assert.equal(parseLoginFailures('3'), 3);
  assert.equal(parseLoginFailures('0'), Infinity);
  for (const bad of ['-1', 'x', '1.5', '']) assert.throws(() => parseLoginFailures(bad), /--max-login-failures|expected a number/);
  const limiter = new LoginLimiter({ maxFailures: Infinity, now: () => 0 });
  for (let i = 0; i < 1000; i++) limiter.fail('a');
  assert.equal(limiter.retryAfter('a'), 0);
});
