// dib-pypi exec and env with real pip: an unprivileged user installs offline from a file:// mirror and its home stays byte-identical; env sourced by sh does the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { attacker, attackerAvailable } from '../../helpers/attacker.js';
import { BIN, cleanEnv, runCli } from '../../helpers/cli.js';
import { makeWheel } from '../../helpers/make-dist.js';
import { DEBIAN_PYTHON, debianPipProblem, makeTempDir } from '../../helpers/python.js';
import { need } from '../../helpers/require.js';
import { diffListings, listTree } from '../../helpers/tree-listing.js';

/** A mirror with two wheels, app depending on dep-lib, indexed by dib-pypi mirror index. */
async function makeMirror(dir: string): Promise<void> {
  await makeWheel(dir, { name: 'dep-lib', version: '1.0' });
  await makeWheel(dir, { name: 'app', version: '2.0', requires: ['dep-lib>=1'] });
  const indexed = runCli(['mirror', 'index', dir, '-q']);
  assert.equal(indexed.status, 0, indexed.stderr);
}

/** A world-readable scratch tree with a home, a temp dir and a work dir owned by the test user. */
async function userDirs(root: string): Promise<{ mirror: string; home: string; tmp: string; work: string; bin: string }> {
  const { uid, gid } = attacker();
  chmodSync(root, 0o755);
  const mirror = join(root, 'mirror');
  mkdirSync(mirror);
  await makeMirror(mirror);
  spawnSync('chmod', ['-R', 'a+rX', mirror]);
  // The CLI as the user can reach it: the checkout may sit below a directory only root may enter (a mktemp -d clone).
  const cli = join(root, 'cli');
  for (const part of ['bin', 'dist/cli', 'package.json']) cpSync(join(dirname(dirname(BIN)), part), join(cli, part), { recursive: true });
  spawnSync('chmod', ['-R', 'a+rX', cli]);
  const dirs = { mirror, home: join(root, 'home'), tmp: join(root, 'tmp'), work: join(root, 'work'), bin: join(cli, 'bin', basename(BIN)) };
  for (const dir of [dirs.home, dirs.tmp, dirs.work]) {
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, uid, gid);
  }
  // A home with something in it, as a real one: pip must neither read nor change it.
  mkdirSync(join(dirs.home, '.config', 'pip'), { recursive: true });
  writeFileSync(join(dirs.home, '.config', 'pip', 'pip.conf'), '[global]\nindex-url = http://127.0.0.1:9/never/\n');
  writeFileSync(join(dirs.home, '.profile'), '# profile\n');
  spawnSync('chown', ['-R', `${uid}:${gid}`, dirs.home]);
  return dirs;
}

/** The user's environment: its own HOME and TMPDIR, no PIP_*, DIB_* or PYPI_* from this machine. */
function userEnv(dirs: { home: string; tmp: string }): Record<string, string> {
  return cleanEnv({ HOME: dirs.home, TMPDIR: dirs.tmp, USER: 'dibpypi-attacker' });
}

function asUser(args: string[], options: { env: Record<string, string>; cwd: string }) {
  const { uid, gid } = attacker();
  return spawnSync('setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', ...args], { ...options, encoding: 'utf8' });
}

async function ready(t: import('node:test').TestContext): Promise<boolean> {
  if (!attackerAvailable(t)) return false;
  const problem = await debianPipProblem();
  return need(t, problem === undefined, problem ?? '');
}

test('exec: an unprivileged user installs offline from a mirror; home, cwd and tmp are unchanged', async (t) => {
  if (!(await ready(t))) return;
  await using root = makeTempDir('dib-pypi-exec-');
  const dirs = await userDirs(root.path);
  const env = userEnv(dirs);
  const workBefore = listTree(dirs.work);
  const target = join(dirs.tmp, 'target');
  // Without exec, the home's pip.conf (a dead index) is what pip uses: the control for what follows.
  const control = asUser([DEBIAN_PYTHON, '-m', 'pip', 'download', '--retries', '0', '--no-deps', '--dest', join(dirs.tmp, 'control'), 'app'], {
    env,
    cwd: dirs.work,
  });
  assert.notEqual(control.status, 0, control.stdout);
  assert.match(control.stdout + control.stderr, /127\.0\.0\.1:9/);
  spawnSync('rm', ['-rf', join(dirs.tmp, 'control')]);
  const homeBefore = listTree(dirs.home);
  const result = asUser(
    [process.execPath, '--', dirs.bin, 'exec', '--mirror', dirs.mirror, '--', DEBIAN_PYTHON, '-m', 'pip', 'install', '--target', target, 'app'],
    { env, cwd: dirs.work },
  );
  assert.equal(result.status, 0, result.stderr + result.stdout);
  assert.ok(existsSync(join(target, 'app', '__init__.py')), result.stdout);
  assert.ok(existsSync(join(target, 'dep_lib', '__init__.py')), result.stdout);
  assert.deepEqual(diffListings(homeBefore, listTree(dirs.home)), []);
  assert.deepEqual(diffListings(workBefore, listTree(dirs.work)), []);
  assert.deepEqual(readdirSync(dirs.tmp), ['target']);
});

test('exec: exit code passthrough, command not found, missing command', async (t) => {
  if (!(await ready(t))) return;
  await using root = makeTempDir('dib-pypi-exec-');
  const dirs = await userDirs(root.path);
  const env = userEnv(dirs);
  assert.equal(runCli(['exec', '--mirror', dirs.mirror, '--', 'sh', '-c', 'exit 7'], { env }).status, 7);
  const missing = runCli(['exec', '--mirror', dirs.mirror, '--', 'no-such-command-dib-pypi'], { env });
  assert.equal(missing.status, 127);
  assert.match(missing.stderr, /command not found: no-such-command-dib-pypi/);
  assert.equal(runCli(['exec', '--mirror', dirs.mirror], { env }).status, 2);
  assert.equal(runCli(['exec', '--mirror', join(dirs.mirror, 'nope'), '--', 'true'], { env }).status, 2);
  assert.deepEqual(readdirSync(dirs.tmp), []);
});

test('exec: SIGTERM reaches CMD, the temp directory goes, exit 143', async (t) => {
  if (!(await ready(t))) return;
  await using root = makeTempDir('dib-pypi-exec-');
  const dirs = await userDirs(root.path);
  const marker = join(dirs.work, 'started');
  const script = `trap 'echo got-term; exit 143' TERM; touch ${marker}; while :; do sleep 0.05; done`;
  const child = spawn(process.execPath, ['--', BIN, 'exec', '--mirror', dirs.mirror, '--', 'sh', '-c', script], {
    env: userEnv(dirs),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  for (let i = 0; i < 200 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(existsSync(marker), 'CMD did not start');
  assert.equal(readdirSync(dirs.tmp).length, 1, 'the temp directory exists while CMD runs');
  child.kill('SIGTERM');
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  assert.equal(status, 143);
  assert.match(stdout, /got-term/);
  assert.deepEqual(readdirSync(dirs.tmp), []);
});

test('exec: a CMD killed by a signal gives 128+N', async (t) => {
  if (!(await ready(t))) return;
  await using root = makeTempDir('dib-pypi-exec-');
  const dirs = await userDirs(root.path);
  assert.equal(runCli(['exec', '--mirror', dirs.mirror, '--', 'sh', '-c', 'kill -TERM $$'], { env: userEnv(dirs) }).status, 143);
  assert.deepEqual(readdirSync(dirs.tmp), []);
});

test('env --format sh, sourced by sh, gives pip the same index as exec', async (t) => {
  if (!(await ready(t))) return;
  await using root = makeTempDir('dib-pypi-exec-');
  const dirs = await userDirs(root.path);
  const env = userEnv(dirs);
  const printed = asUser([process.execPath, '--', dirs.bin, 'env', '--format', 'sh', '--mirror', dirs.mirror], { env, cwd: dirs.work });
  assert.equal(printed.status, 0, printed.stderr);
  const script = `eval "$(cat)"; ${DEBIAN_PYTHON} -m pip config list; ${DEBIAN_PYTHON} -m pip download --no-deps --dest "$1" app`;
  const viaEnv = spawnSync(
    'setpriv',
    [`--reuid=${attacker().uid}`, `--regid=${attacker().gid}`, '--clear-groups', '--', 'sh', '-euc', script, 'sh', join(dirs.tmp, 'd1')],
    { env, cwd: dirs.work, input: printed.stdout, encoding: 'utf8' },
  );
  assert.equal(viaEnv.status, 0, viaEnv.stderr + viaEnv.stdout);
  const viaExec = asUser(
    [process.execPath, '--', dirs.bin, 'exec', '--mirror', dirs.mirror, '--', 'sh', '-euc', script.replace('eval "$(cat)"; ', ''), 'sh', join(dirs.tmp, 'd2')],
    { env, cwd: dirs.work },
  );
  assert.equal(viaExec.status, 0, viaExec.stderr + viaExec.stdout);
  // pip config list: the :env: values (what pip uses; they beat every file) are the same.
  const envLines = (out: string) =>
    out
      .split('\n')
      .filter((l) => l.startsWith(':env:') && !l.startsWith(':env:.config-file'))
      .sort();
  assert.deepEqual(envLines(viaEnv.stdout), envLines(viaExec.stdout));
  assert.ok(
    envLines(viaEnv.stdout).some((l) => l.startsWith(`:env:.index-url='file://${dirs.mirror}'`)),
    viaEnv.stdout,
  );
  assert.deepEqual(readdirSync(join(dirs.tmp, 'd1')), ['app-2.0-py3-none-any.whl']);
  assert.deepEqual(readdirSync(join(dirs.tmp, 'd2')), ['app-2.0-py3-none-any.whl']);
});

test('env: formats, credentials on stdout with a warning on stderr, bad format', () => {
  const env = cleanEnv({ DIB_PYPI_MIRROR_URL: 'http://user:s3cret@127.0.0.1:8080/simple/', DIB_OFFLINE: '1' });
  const sh = runCli(['env'], { env });
  assert.equal(sh.status, 0, sh.stderr);
  assert.match(sh.stdout, /^export PIP_INDEX_URL='http:\/\/user:s3cret@127\.0\.0\.1:8080\/simple\/'$/m);
  assert.match(sh.stdout, /^export PIP_CONFIG_FILE='\/dev\/null'$/m);
  assert.match(sh.stdout, /^export PIP_TRUSTED_HOST='127\.0\.0\.1:8080'$/m);
  assert.match(sh.stderr, /warning: the output contains credentials/);
  assert.doesNotMatch(sh.stderr, /s3cret/);
  const github = runCli(['env', '--format', 'github'], { env });
  assert.match(github.stdout, /^PIP_INDEX_URL=http:\/\/user:s3cret@127\.0\.0\.1:8080\/simple\/$/m);
  const fish = runCli(['env', '--format', 'fish', '--retries', '3'], { env });
  assert.match(fish.stdout, /^set -gx PIP_RETRIES '3'$/m);
  const plain = runCli(['env', '--mirror-url', 'file:///srv/m', '--offline'], { env: cleanEnv() });
  assert.equal(plain.stderr, '');
  const bad = runCli(['env', '--format', 'csh'], { env });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--format: unknown format "csh"/);
});

test('exec without --mirror: the plan from DIB_* variables; competing PIP_* replaced, reported redacted', async (t) => {
  if (!(await ready(t))) return;
  await using root = makeTempDir('dib-pypi-exec-');
  const dirs = await userDirs(root.path);
  const env = {
    ...userEnv(dirs),
    DIB_PYPI_MIRROR_URL: `file://${dirs.mirror}`,
    DIB_OFFLINE: '1',
    PIP_INDEX_URL: 'http://me:s3cret@127.0.0.1:9/simple/',
    PIP_FIND_LINKS: '/nowhere',
  };
  const dest = join(dirs.tmp, 'd');
  const result = runCli(['exec', '--', DEBIAN_PYTHON, '-m', 'pip', 'download', '--dest', dest, 'app'], { env, cwd: dirs.work });
  assert.equal(result.status, 0, result.stderr + result.stdout);
  assert.deepEqual(readdirSync(dest).sort(), ['app-2.0-py3-none-any.whl', 'dep_lib-1.0-py3-none-any.whl']);
  assert.match(result.stderr, /warning: PIP_INDEX_URL=http:\/\/me:\*\*\*@127\.0\.0\.1:9\/simple\/ is set: replaced for CMD/);
  assert.match(result.stderr, /warning: PIP_FIND_LINKS=\/nowhere is set and stays in CMD's environment/);
  assert.doesNotMatch(result.stderr, /s3cret/);
});
