// ConfiguredRoot, the one configure + mount + restore sequence the configure command and the chroot runner share.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfiguredRoot } from '../../../src/inject/configured-root.js';
import type { MountSpec } from '../../../src/inject/mounts-in-root.js';
import { buildPlan } from '../../../src/plan/build-plan.js';
import { makeBusyRoot, type FixtureRoot } from '../../helpers/fixture-root.js';
import { isRoot, need } from '../../helpers/require.js';
import { listTree } from '../../helpers/tree-listing.js';

const plan = buildPlan({ flags: { mirrorUrls: ['file:///tmp/pypi'], offline: true }, env: {}, dotenv: {} });
const mountinfo = () => readFileSync('/proc/self/mountinfo', 'utf8');

function options(f: FixtureRoot, mounts: MountSpec[], warnings: string[] = []) {
  return { root: f.root, home: '/root', plan, stateRoot: f.state, mounts, warn: (text: string) => warnings.push(text) };
}
function assertNoJournal(f: FixtureRoot) {
  const roots = join(f.state, 'roots');
  assert.ok(!existsSync(roots) || readdirSync(roots).length === 0, 'journal left behind');
}

describe('ConfiguredRoot', () => {
  test('disposing it unmounts and gives the root back byte for byte', (t) => {
    if (!need(t, isRoot, 'bind mounts need root')) return;
    using f = makeBusyRoot();
    const before = listTree(f.root);
    const warnings: string[] = [];
    {
      using configured = ConfiguredRoot.configure(options(f, [{ target: '/tmp/pypi', kind: 'bind-ro', source: f.outside }], warnings));
      assert.ok(configured.written.includes('/etc/pip.conf'), `wrote ${configured.written.join(', ')}`);
      assert.deepEqual(warnings, configured.warnings, 'each competing config is told as a warning');
      assert.ok(mountinfo().includes(join(f.root, 'tmp/pypi')), 'not mounted');
      assert.equal(readFileSync(join(f.root, 'tmp/pypi/host-file'), 'utf8'), 'host data\n');
    }
    assert.ok(!mountinfo().includes(join(f.root, 'tmp/pypi')), 'still mounted');
    assert.deepEqual(listTree(f.root), before);
    assertNoJournal(f);
  });

  test('restore() twice restores once and answers the same', () => {
    using f = makeBusyRoot();
    const before = listTree(f.root);
    const configured = ConfiguredRoot.configure(options(f, []));
    const first = configured.restore();
    assert.ok(first.hadJournal);
    assert.ok(first.restored.includes('/etc/pip.conf'), `restored ${first.restored.join(', ')}`);
    assert.equal(configured.restore(), first);
    assert.deepEqual(listTree(f.root), before);
    assertNoJournal(f);
  });

  test('a mount that fails rolls back the configuration and the mounts made before it', (t) => {
    if (!need(t, isRoot, 'bind mounts need root')) return;
    using f = makeBusyRoot();
    const before = listTree(f.root);
    const mounts: MountSpec[] = [
      { target: '/tmp/pypi', kind: 'bind-ro', source: f.outside },
      { target: '/dev', kind: 'bind', source: join(f.base, 'no-such-dir') },
    ];
    assert.throws(() => ConfiguredRoot.configure(options(f, mounts)), /mount .* failed/);
    assert.ok(!mountinfo().includes(join(f.root, 'tmp/pypi')), 'still mounted');
    assert.deepEqual(listTree(f.root), before);
    assertNoJournal(f);
  });
});
