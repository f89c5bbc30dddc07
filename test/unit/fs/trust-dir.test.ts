// The state directory trust check: owners, modes, sticky parents, symlinks, files; nothing created before the check passes.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { checkStateDir, checkStateFiles, ensureStateDir, trustedOwners, untrustedDirReason, untrustedFileReason } from '../../../src/fs/trust-dir.js';
import { isRoot, need } from '../../helpers/require.js';

const ME = process.getuid?.() ?? 0;
const OWNERS = trustedOwners({}, ME);

function fakeStat(kind: 'dir' | 'file' | 'link', mode: number, uid: number, nlink = 1): Stats {
  return { isDirectory: () => kind === 'dir', isFile: () => kind === 'file', isSymbolicLink: () => kind === 'link', mode, uid, nlink } as Stats;
}

describe('trustedOwners', () => {
  test('root and the real uid; SUDO_UID only when running as root', () => {
    assert.deepEqual([...trustedOwners({}, 1000)].sort(), [0, 1000]);
    assert.deepEqual([...trustedOwners({ SUDO_UID: '1000' }, 0)].sort(), [0, 1000]);
    assert.deepEqual([...trustedOwners({ SUDO_UID: '1001' }, 1000)].sort(), [0, 1000], 'a user cannot widen their trust through SUDO_UID');
    assert.deepEqual([...trustedOwners({ SUDO_UID: '1000; rm' }, 0)], [0]);
  });
});

describe('untrustedDirReason / untrustedFileReason', () => {
  const owners = new Set([0, 1000]);
  test('owned by root or the invoker, writable by no one else', () => {
    assert.equal(untrustedDirReason(fakeStat('dir', 0o40755, 0), owners, false), undefined);
    assert.equal(untrustedDirReason(fakeStat('dir', 0o40700, 1000), owners, false), undefined);
    assert.equal(untrustedDirReason(fakeStat('dir', 0o40755, 1001), owners, true), 'is owned by uid 1001, not by root or uid 1000');
    assert.equal(untrustedDirReason(fakeStat('dir', 0o40775, 0), owners, true), 'is writable by its group (mode 0775) and not sticky');
    assert.equal(untrustedDirReason(fakeStat('dir', 0o40757, 0), owners, false), 'is writable by others (mode 0757)');
    assert.equal(untrustedDirReason(fakeStat('link', 0o120777, 0), owners, false), 'is a symlink');
    assert.equal(untrustedDirReason(fakeStat('file', 0o100644, 0), owners, false), 'is not a directory');
  });
  test('a sticky /tmp may be above the state directory, never be it', () => {
    assert.equal(untrustedDirReason(fakeStat('dir', 0o41777, 0), owners, true), undefined);
    assert.equal(untrustedDirReason(fakeStat('dir', 0o41777, 0), owners, false), 'is writable by its group and others (mode 1777)');
    assert.equal(untrustedDirReason(fakeStat('dir', 0o41777, 1001), owners, true), 'is owned by uid 1001, not by root or uid 1000');
  });
  test('journal files: regular, trusted owner, not writable by others, one link', () => {
    assert.equal(untrustedFileReason(fakeStat('file', 0o100600, 1000), owners), undefined);
    assert.equal(untrustedFileReason(fakeStat('file', 0o100620, 0), owners), 'is writable by its group (mode 0620)');
    assert.equal(untrustedFileReason(fakeStat('file', 0o100600, 0, 2), owners), 'has 2 hard links (another name could change it)');
    assert.equal(untrustedFileReason(fakeStat('link', 0o120777, 0), owners), 'is a symlink');
    assert.equal(untrustedFileReason(fakeStat('dir', 0o40700, 0), owners), 'is not a regular file');
    assert.equal(untrustedFileReason(fakeStat('file', 0o100600, 1001), owners), 'is owned by uid 1001, not by root or uid 1000');
  });
});

describe('checkStateDir and ensureStateDir on real directories', () => {
  function withBase(body: (base: string) => void): void {
    const base = mkdtempSync(join(tmpdir(), 'dib-pypi-trust-'));
    try {
      body(base);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  }

  test('a private directory under /tmp is trusted; missing parts are created 0700 only by ensureStateDir', () => {
    withBase((base) => {
      const state = join(base, 'a', 'b');
      assert.equal(checkStateDir(state, OWNERS, ['roots']), state);
      assert.ok(!existsSync(join(base, 'a')), 'the check created something');
      ensureStateDir(state, ['roots'], OWNERS);
      assert.ok(existsSync(join(state, 'roots')));
    });
  });

  test('a group-writable parent is refused, naming it', () => {
    withBase((base) => {
      chmodSync(base, 0o775);
      assert.throws(
        () => checkStateDir(join(base, 'state'), OWNERS),
        (error: Error) => {
          assert.equal(
            error.message,
            `untrusted state directory ${base}/state: ${base} is writable by its group (mode 0775) and not sticky, so others could forge what restore does; nothing was changed`,
          );
          return true;
        },
      );
    });
  });

  test('a world-writable sticky state directory is refused, though it may be a parent', () => {
    withBase((base) => {
      chmodSync(base, 0o1777);
      assert.throws(() => checkStateDir(base, OWNERS), /untrusted state directory: .* is writable by its group and others \(mode 1777\)/);
      assert.equal(checkStateDir(join(base, 'state'), OWNERS), join(base, 'state'));
    });
  });

  test('a link is resolved and the real chain is checked', () => {
    withBase((base) => {
      mkdirSync(join(base, 'real'));
      symlinkSync(join(base, 'real'), join(base, 'link'));
      assert.equal(checkStateDir(join(base, 'link', 'state'), OWNERS), join(base, 'real', 'state'));
      chmodSync(join(base, 'real'), 0o777);
      assert.throws(() => checkStateDir(join(base, 'link', 'state'), OWNERS), new RegExp(`${base}/real is writable by its group and others`));
    });
  });

  test('a directory or file of another user is refused', (t) => {
    if (!need(t, isRoot, 'needs root to chown')) return;
    withBase((base) => {
      const state = join(base, 'state');
      mkdirSync(join(state, 'roots', 'x'), { recursive: true, mode: 0o700 });
      chownSync(join(state, 'roots'), 4321, 4321);
      assert.throws(() => checkStateDir(state, OWNERS, ['roots', 'roots/x']), new RegExp(`${state}/roots is owned by uid 4321, not by root`));
      chownSync(join(state, 'roots'), 0, 0);
      writeFileSync(join(state, 'roots', 'x', 'journal'), 'forged');
      chownSync(join(state, 'roots', 'x', 'journal'), 4321, 4321);
      assert.throws(() => checkStateFiles(join(state, 'roots', 'x'), OWNERS), /roots\/x\/journal is owned by uid 4321/);
      chownSync(join(state, 'roots', 'x', 'journal'), 0, 0);
      linkSync(join(state, 'roots', 'x', 'journal'), join(base, 'second-name'));
      assert.throws(() => checkStateFiles(join(state, 'roots', 'x'), OWNERS), /has 2 hard links/);
    });
  });

  test('ensureStateDir refuses a directory someone else made in the meantime', (t) => {
    if (!need(t, isRoot, 'needs root to chown')) return;
    withBase((base) => {
      chmodSync(base, 0o1777);
      const state = join(base, 'state');
      checkStateDir(state, OWNERS);
      mkdirSync(state); // the race: created by another user between the check and the mkdir
      chownSync(state, 4321, 4321);
      assert.throws(() => ensureStateDir(state, ['roots'], OWNERS), /state is owned by uid 4321/);
    });
  });
});
