// Per-project upload rights (serve --acl) with real twine: the ACL grants, the first uploader of
// a new project becomes its owner (kept across a restart), others get 403 and twine prints why; names
// that normalise alike are one project; ACL and owners files others could write are refused at start.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { BIN, cleanEnv, runCli } from '../../helpers/cli.js';
import { httpRequest } from '../../helpers/http-get.js';
import { makeWheel } from '../../helpers/make-dist.js';
import { basicAuth, multipart, twineFields } from '../../helpers/multipart.js';
import { envWithoutPip, makeTempDir } from '../../helpers/python.js';
import { canRunTwine, isRoot, need } from '../../helpers/require.js';
import { startServe } from '../../helpers/serve.js';

const PASSWORDS: Record<string, string> = { alice: 'alice-s3cret-Pa55', bob: 'bob-s3cret-Pa55', carol: 'carol-s3cret-Pa55', zoë: 'zoe-s3cret-Pa55' };
const TOKEN = 'pypi-token-acl-0123456789';

const ACL = `# who may upload what (docs/serve.md)
[groups]
ml = alice, bob

[upload]
team-ml-* = @ml            # the ML team's projects: no owner, the group's
* = __token__              # CI may upload anywhere

[create]
* = alice, bob, zoë
`;

const canRun = canRunTwine;

/** htpasswd (Apache's own tool, bcrypt) and the ACL, in `dir`. */
function files(dir: string): { auth: string; acl: string } {
  const auth = join(dir, 'htpasswd');
  for (const [index, [user, password]] of Object.entries(PASSWORDS).entries())
    execFileSync('htpasswd', [index === 0 ? '-cbB' : '-bB', auth, user, password], { stdio: 'ignore' });
  const acl = join(dir, 'acl.ini');
  writeFileSync(acl, ACL, { mode: 0o644 });
  return { auth, acl };
}

async function twine(url: string, user: string, files: string[]) {
  const env: Record<string, string> = { ...envWithoutPip(process.env), PYTHON_KEYRING_BACKEND: 'keyring.backends.null.Keyring' };
  for (const name of Object.keys(env)) if (name.startsWith('TWINE_')) delete env[name];
  const password = user === '__token__' ? TOKEN : (PASSWORDS[user] as string);
  return execa('twine', ['upload', '--non-interactive', '--disable-progress-bar', '--repository-url', url, '-u', user, '-p', password, ...files], {
    env,
    extendEnv: false,
    reject: false,
    all: true,
  });
}

/** What twine 4 prints of a refusal: the status, then the reason phrase (wrapped at blanks when long). */
function refusal(reason: string): RegExp {
  const words = reason.split(' ').map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`403 Forbidden from \\S+\\s+${words.join('\\s+')}`);
}

/** `dib-pypi serve ARGS` expected to fail at start; killed after 30 s should it serve instead. */
function serveFails(args: string[]): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, ['--', BIN, 'serve', '--port', '0', ...args], {
    env: cleanEnv(),
    encoding: 'utf8',
    timeout: 30_000,
    killSignal: 'SIGKILL',
  });
  return { status: result.status, stderr: result.stderr };
}

function owners(mirror: string): Record<string, string[]> {
  const path = join(mirror, '.dib-pypi', 'owners.json');
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as { projects: Record<string, string[]> }).projects : {};
}

test('twine: the ACL grants, the first uploader owns a new project (across a restart), others get 403 with the reason', async (t) => {
  if (!canRun(t)) return;
  await using mirror = makeTempDir('dib-pypi-acl-');
  await using work = makeTempDir('dib-pypi-acl-work-');
  const { auth, acl } = files(work.path);
  const args = [mirror.path, '--upload-auth', auth, '--acl', acl];
  const env = cleanEnv({ DIB_PYPI_UPLOAD_TOKEN: TOKEN });
  const wheel = (name: string, version = '1.0') => makeWheel(join(work.path, `${name}-${version}`), { name, version });

  let server = await startServe(args, { env });
  try {
    // The ACL names team-ml-*: the group may upload, nobody becomes its owner, others are refused.
    const granted = await twine(server.url, 'alice', [await wheel('team-ml-core')]);
    assert.equal(granted.exitCode, 0, granted.all);
    const carol = await twine(server.url, 'carol', [await wheel('team-ml-core', '2.0')]);
    assert.notEqual(carol.exitCode, 0);
    assert.match(carol.all ?? '', refusal('user carol may not upload to team-ml-core: not granted by the ACL'), carol.all);
    assert.deepEqual(owners(mirror.path), {}, 'a project the ACL names gets no owner');

    // A new project: alice may create it and owns it; bob may create projects too, but not this one.
    const created = await twine(server.url, 'alice', [await wheel('Alpha.Pkg')]);
    assert.equal(created.exitCode, 0, created.all);
    assert.deepEqual(owners(mirror.path), { 'alpha-pkg': ['alice'] });
    const bob = await twine(server.url, 'bob', [await wheel('alpha_pkg', '2.0')]);
    assert.notEqual(bob.exitCode, 0);
    assert.match(bob.all ?? '', refusal('user bob may not upload to alpha-pkg: owned by alice'), bob.all);
    // Another spelling of the name is the same project (PEP 503): ALPHA-pkg is alice's too.
    const spelled = await twine(server.url, 'bob', [await wheel('ALPHA--Pkg', '3.0')]);
    assert.match(spelled.all ?? '', refusal('user bob may not upload to alpha-pkg: owned by alice'), spelled.all);
    assert.deepEqual(
      readdirSync(join(mirror.path, 'alpha-pkg')).filter((n) => n.endsWith('.whl')),
      ['alpha_pkg-1.0-py3-none-any.whl'],
    );
    assert.deepEqual(readdirSync(join(mirror.path, '.dib-pypi', 'uploads')), [], 'refused uploads leave no temp file');
    // Carol may not create projects at all.
    const refusedCreate = await twine(server.url, 'carol', [await wheel('carols-thing')]);
    assert.match(refusedCreate.all ?? '', refusal('user carol may not create carols-thing: not granted by the ACL'), refusedCreate.all);
    assert.equal(existsSync(join(mirror.path, 'carols-thing')), false);
    // The token user is a user of the ACL like any other: `* = __token__` lets CI upload to alice's project.
    const ci = await twine(server.url, '__token__', [await wheel('alpha-pkg', '4.0')]);
    assert.equal(ci.exitCode, 0, ci.all);
    assert.match(server.output(), /upload refused: user bob may not upload to alpha-pkg: owned by alice/, 'the refusal is logged');
  } finally {
    await server.stop();
  }

  // A restart: ownership comes back from DIR/.dib-pypi/owners.json.
  server = await startServe(args, { env });
  try {
    const bob = await twine(server.url, 'bob', [await wheel('alpha-pkg', '5.0')]);
    assert.match(bob.all ?? '', refusal('user bob may not upload to alpha-pkg: owned by alice'), bob.all);
    const alice = await twine(server.url, 'alice', [await wheel('alpha-pkg', '5.0')]);
    assert.equal(alice.exitCode, 0, alice.all);
    // A user with a non-ASCII name (UTF-8 Basic auth; twine would send Latin-1) creates and owns a project.
    const content = readFileSync(await wheel('zoe-pkg'));
    const form = multipart({ fields: twineFields('zoe-pkg', '1.0', content), filename: 'zoe_pkg-1.0-py3-none-any.whl', content });
    const headers = { 'Content-Type': form.contentType, Authorization: basicAuth('zoë', PASSWORDS.zoë as string) };
    const zoe = await httpRequest(server.url, { method: 'POST', headers, body: form.body });
    assert.equal(zoe.status, 200, zoe.body.toString());
    assert.deepEqual(owners(mirror.path), { 'alpha-pkg': ['alice'], 'zoe-pkg': ['zoë'] });
    const bobOnZoe = await twine(server.url, 'bob', [await wheel('zoe-pkg', '2.0')]);
    // The status line is ASCII: the name's other characters are `?` there; the body says it in full.
    assert.match(bobOnZoe.all ?? '', refusal('user bob may not upload to zoe-pkg: owned by "zo?"'), bobOnZoe.all);
    const raw = await httpRequest(server.url, {
      method: 'POST',
      headers: { 'Content-Type': form.contentType, Authorization: basicAuth('bob', PASSWORDS.bob as string) },
      body: form.body,
    });
    assert.equal(raw.status, 403);
    assert.equal(raw.body.toString(), 'user bob may not upload to zoe-pkg: owned by "zoë"\n');
    // Two first uploads of one new project at once: exactly one becomes its owner, the other is refused.
    const post = async (user: 'alice' | 'bob', version: string) => {
      const bytes = readFileSync(await wheel('raced', version));
      const body = multipart({ fields: twineFields('raced', version, bytes), filename: `raced-${version}-py3-none-any.whl`, content: bytes });
      const answer = await httpRequest(server.url, {
        method: 'POST',
        headers: { 'Content-Type': body.contentType, Authorization: basicAuth(user, PASSWORDS[user] as string) },
        body: body.body,
      });
      return { user, status: answer.status, text: answer.body.toString() };
    };
    const raced = await Promise.all([post('alice', '1.0'), post('bob', '2.0')]);
    const winner = raced.find((r) => r.status === 200);
    const loser = raced.find((r) => r.status === 403);
    assert.ok(winner !== undefined && loser !== undefined, JSON.stringify(raced));
    assert.equal(loser.text, `user ${loser.user} may not upload to raced: owned by ${winner.user}\n`);
    assert.deepEqual(owners(mirror.path).raced, [winner.user]);
    assert.equal(readdirSync(join(mirror.path, 'raced')).filter((n) => n.endsWith('.whl')).length, 1);
    // Pattern characters in a project name: refused as a name (400) before any right is asked; nothing owned.
    const starBytes = readFileSync(await wheel('star', '1.0'));
    const star = multipart({ fields: twineFields('team-*', '1.0', starBytes), filename: 'star-1.0-py3-none-any.whl', content: starBytes });
    const starred = await httpRequest(server.url, {
      method: 'POST',
      headers: { 'Content-Type': star.contentType, Authorization: basicAuth('alice', PASSWORDS.alice as string) },
      body: star.body,
    });
    assert.equal(starred.status, 400, starred.body.toString());
    assert.deepEqual(Object.keys(owners(mirror.path)).sort(), ['alpha-pkg', 'raced', 'zoe-pkg']);
  } finally {
    await server.stop();
  }
  const verify = runCli(['mirror', 'verify', mirror.path]);
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
});

test('without --acl every upload user may upload anywhere, and no owners are recorded', async (t) => {
  if (!canRun(t)) return;
  await using mirror = makeTempDir('dib-pypi-acl-none-');
  await using work = makeTempDir('dib-pypi-acl-none-work-');
  const { auth } = files(work.path);
  await using server = await startServe([mirror.path, '--upload-auth', auth]);
  assert.equal((await twine(server.url, 'alice', [await makeWheel(join(work.path, 'a'), { name: 'shared', version: '1.0' })])).exitCode, 0);
  const bob = await twine(server.url, 'bob', [await makeWheel(join(work.path, 'b'), { name: 'shared', version: '2.0' })]);
  assert.equal(bob.exitCode, 0, bob.all);
  assert.equal(existsSync(join(mirror.path, '.dib-pypi', 'owners.json')), false);
});

test('bad ACL files stop the server at start with one line naming the file (exit 2); an untrusted owners file too (exit 1)', async (t) => {
  if (!canRun(t)) return;
  await using mirror = makeTempDir('dib-pypi-acl-bad-');
  await using work = makeTempDir('dib-pypi-acl-bad-work-');
  const { auth, acl } = files(work.path);
  const write = (name: string, text: string | Buffer, mode = 0o644) => {
    const path = join(work.path, name);
    writeFileSync(path, text, { mode });
    chmodSync(path, mode);
    return path;
  };
  const serve = (...args: string[]) => serveFails([mirror.path, '--upload-auth', auth, ...args]);
  const cases: [string[], RegExp][] = [
    [
      ['--acl', write('syntax', '[upload]\nteam-x = alice\nbad pattern = bob\n')],
      /^dib-pypi: error: --acl: .*syntax line 3: "bad pattern" is not a project name pattern/,
    ],
    [['--acl', write('colon', '[upload]\nx = al:ice\n')], /colon line 2: user "al:ice": a user name cannot hold ":"/],
    [['--acl', write('group', '[upload]\nx = @nobody\n')], /group line 2: no group nobody in \[groups\]/],
    [['--acl', write('writable', ACL, 0o666)], /^dib-pypi: error: --acl: untrusted ACL file: .*writable is writable by its group and others \(mode 0666\)/],
    [['--acl', write('group-writable', ACL, 0o664)], /untrusted ACL file: .*group-writable is writable by its group/],
    [['--acl', write('huge', `[upload]\n${'x = alice\n'.repeat(120_000)}`)], /huge" is larger than 1048576 bytes: not an ACL file/],
    [['--acl', write('latin1', Buffer.from('[upload]\nx = zo\xeb\n', 'latin1'))], /latin1" is not UTF-8 text/],
    [['--acl', join(work.path, 'missing')], /^dib-pypi: error: --acl: cannot read .*missing": ENOENT/],
    [['--acl', work.path], /is not a regular file|EISDIR/],
  ];
  for (const [args, pattern] of cases) {
    const result = serve(...args);
    assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr.trim(), pattern);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  }
  const noUploads = serveFails([mirror.path, '--acl', acl]);
  assert.equal(noUploads.status, 2);
  assert.match(noUploads.stderr, /--acl: needs uploads enabled/);
  // A warning for users the ACL names who cannot log in (a typo, another spelling, __token__ without a token).
  const warned = await startServe([mirror.path, '--upload-auth', auth, '--acl', write('typo', '[upload]\nx = alcie, __token__\n')]);
  await warned.stop();
  assert.match(warned.output(), /typo line 2 names user "alcie", who is not in the --upload-auth file/);
  assert.match(warned.output(), /typo line 2 names __token__, but DIB_PYPI_UPLOAD_TOKEN is not set/);

  const owners = join(mirror.path, '.dib-pypi', 'owners.json');
  writeFileSync(owners, '{"version":1,"projects":{"x":["alice"]}}\n', { mode: 0o664 });
  chmodSync(owners, 0o664);
  const untrusted = serve('--acl', acl);
  assert.equal(untrusted.status, 1, untrusted.stderr);
  assert.match(untrusted.stderr, /untrusted owners file: .*owners\.json is writable by its group \(mode 0664\); whoever can write it decides who may upload/);
  chmodSync(owners, 0o644);
  if (!need(t, isRoot, 'giving a file to another user needs root')) return;
  chownSync(acl, 12345, 12345);
  const foreign = serve('--acl', acl);
  assert.equal(foreign.status, 2, foreign.stderr);
  assert.match(foreign.stderr, /untrusted ACL file: .*acl\.ini is owned by uid 12345, not by root/);
  chownSync(owners, 12345, 12345);
  chownSync(acl, 0, 0);
  const foreignOwners = serve('--acl', acl);
  assert.equal(foreignOwners.status, 1, foreignOwners.stderr);
  assert.match(foreignOwners.stderr, /untrusted owners file: .*owners\.json is owned by uid 12345/);
});
