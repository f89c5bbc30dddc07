// Real Debian pip, run chrooted in the configured root, reads what configure wrote: for root and for other users.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../../helpers/cli.js';
import { makeBusyRoot, type FixtureRoot } from '../../helpers/fixture-root.js';
import { hasCommand, isRoot, need } from '../../helpers/require.js';
import { listTree } from '../../helpers/tree-listing.js';

const DEBIAN_PIP = '/usr/bin/python3';

/** The root gets the host's /usr (bind-mounted in a private mount namespace) so Debian's pip runs inside it. */
function makePipRoot(): FixtureRoot {
  const f = makeBusyRoot();
  mkdirSync(join(f.root, 'usr'));
  mkdirSync(join(f.root, 'tmp'));
  for (const [link, target] of [
    ['bin', 'usr/bin'],
    ['lib', 'usr/lib'],
    ['lib64', 'usr/lib64'],
    ['sbin', 'usr/sbin'],
  ]) {
    symlinkSync(target as string, join(f.root, link as string));
  }
  return f;
}

/** `pip config list` as uid:gid with HOME, chrooted in `root`, with an environment free of PIP_* variables. */
function pipConfigList(root: string, user: string, home: string): string[] {
  const script =
    'mount --bind /usr "$1/usr" && exec chroot --userspec="$2" "$1" /usr/bin/env -i HOME="$3" PATH=/usr/bin:/bin /usr/bin/python3 -m pip config list';
  const result = spawnSync('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', root, user, home], { encoding: 'utf8' });
  assert.equal(result.status, 0, `pip config list as ${user} failed: ${result.stderr}`);
  return result.stdout.trim().split('\n').filter(Boolean).sort();
}

const PLAN_LINES = [
  "global.extra-index-url='file:///tmp/pypi'",
  "global.index-url='http://127.0.0.1:8080/simple'",
  "global.retries='2'",
  "global.trusted-host='127.0.0.1:8080'",
];

test('pip config list inside the root shows the plan for root and for other users, and the originals after restore', (t) => {
  if (!need(t, isRoot, 'needs root for chroot and mounts')) return;
  if (!need(t, existsSync(DEBIAN_PIP) && hasCommand(DEBIAN_PIP, ['-m', 'pip', '--version']), 'needs Debian python3-pip')) return;
  if (!need(t, hasCommand('unshare', ['--version']), 'needs unshare (util-linux)')) return;
  using f = makePipRoot();
  const before = listTree(f.root);
  const rootBefore = pipConfigList(f.root, '0:0', '/root');
  assert.ok(rootBefore.includes("install.index-url='http://xdg.example/simple'"), rootBefore.join('\n'));
  assert.ok(rootBefore.includes("global.timeout='60'"), rootBefore.join('\n'));
  const aliceBefore = pipConfigList(f.root, '1000:1000', '/home/alice');

  const configured = runCli([
    'configure',
    '--root',
    f.root,
    '--state-dir',
    f.state,
    '--mirror-url',
    'http://127.0.0.1:8080/simple',
    '--mirror-url',
    'file:///tmp/pypi',
    '--offline',
    '--retries',
    '2',
  ]);
  assert.equal(configured.status, 0, configured.stderr);
  // root: every pip config file it reads is ours, so nothing of the image's outranks or extends the plan
  assert.deepEqual(pipConfigList(f.root, '0:0', '/root'), PLAN_LINES);
  // another user without config of their own gets the plan from /etc/pip.conf
  assert.deepEqual(pipConfigList(f.root, '1234:5678', '/home/bob'), PLAN_LINES);
  // alice's own [install] index-url still wins for alice: configure warned about exactly that
  assert.match(configured.stderr, /\/home\/alice\/\.config\/pip\/pip\.conf sets \[install\] index-url/);
  assert.deepEqual(pipConfigList(f.root, '1000:1000', '/home/alice'), [...PLAN_LINES, "install.index-url='http://alice.example/simple'"].sort());

  const restored = runCli(['restore', '--root', f.root, '--state-dir', f.state]);
  assert.equal(restored.status, 0, restored.stderr);
  assert.deepEqual(pipConfigList(f.root, '0:0', '/root'), rootBefore);
  assert.deepEqual(pipConfigList(f.root, '1000:1000', '/home/alice'), aliceBefore);
  assert.deepEqual(listTree(f.root), before);
  // nothing stays mounted: the mount namespace died with each pip run
  assert.ok(!execFileSync('cat', ['/proc/self/mountinfo'], { encoding: 'utf8' }).includes(f.root));
});
