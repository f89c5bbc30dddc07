// Kill configure (and restore) with SIGKILL after each of its file-system steps in turn; restore must still give back the root byte for byte.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cleanEnv, runCli } from '../../helpers/cli.js';
import { makeBusyRoot, makeTempRoot, type FixtureRoot } from '../../helpers/fixture-root.js';
import { listTree } from '../../helpers/tree-listing.js';

const MIRROR = ['--mirror-url', 'http://127.0.0.1:8080/simple'];

function run(f: FixtureRoot, command: 'configure' | 'restore', faultAt = 0, extra: string[] = []) {
  const args = [command, '--root', f.root, '--state-dir', f.state, ...(command === 'configure' ? MIRROR : []), ...extra];
  return runCli(args, { env: cleanEnv(faultAt > 0 ? { DIB_PYPI_TEST_FAULT_AT: String(faultAt) } : {}) });
}

function assertRestored(f: FixtureRoot, before: string[], label: string) {
  const restored = run(f, 'restore');
  assert.equal(restored.status, 0, `${label}: restore failed: ${restored.stderr}`);
  assert.deepEqual(listTree(f.root), before, `${label}: root differs after restore`);
  const roots = join(f.state, 'roots');
  assert.ok(!existsSync(roots) || readdirSync(roots).length === 0, `${label}: journal left behind`);
}

/** Kill `command` at step 1, 2, ... until it completes; returns how many crash points were tested. */
function crashAtEveryStep(makeRoot: () => FixtureRoot, prepare: (f: FixtureRoot) => void, command: 'configure' | 'restore', extra: string[] = []): number {
  for (let step = 1; step < 200; step++) {
    using f = makeRoot();
    const before = listTree(f.root);
    prepare(f);
    const result = run(f, command, step, extra);
    if (result.signal === null) {
      assert.equal(result.status, 0, `${command} without a crash failed: ${result.stderr}`);
      assertRestored(f, before, `${command} completed`);
      return step - 1;
    }
    assert.equal(result.signal, 'SIGKILL', `${command} ended by ${result.signal}`);
    assertRestored(f, before, `${command} killed at step ${step}`);
  }
  throw new Error(`${command} never completed`);
}

const nothing = () => {};
const configured = (f: FixtureRoot) => assert.equal(run(f, 'configure').status, 0);

describe('crash at every step', () => {
  test('configure on a busy root (backups, replaced files, symlinks)', (t) => {
    const points = crashAtEveryStep(makeBusyRoot, nothing, 'configure');
    t.diagnostic(`${points} crash points`);
    assert.ok(points >= 15, `only ${points} crash points`);
  });

  test('configure on an empty root (creates /etc, /root)', (t) => {
    const points = crashAtEveryStep(makeTempRoot, nothing, 'configure');
    t.diagnostic(`${points} crash points`);
    assert.ok(points >= 8, `only ${points} crash points`);
  });

  test('a second configure over a first one', (t) => {
    const points = crashAtEveryStep(makeBusyRoot, configured, 'configure', ['--mirror-url', 'https://second.example/simple']);
    t.diagnostic(`${points} crash points`);
    assert.ok(points >= 6, `only ${points} crash points`);
  });

  test('restore itself, then restore again', (t) => {
    const points = crashAtEveryStep(makeBusyRoot, configured, 'restore');
    t.diagnostic(`${points} crash points`);
    assert.ok(points >= 10, `only ${points} crash points`);
  });
});
