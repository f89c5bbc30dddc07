// Entries inside a root are reached through a pinned directory descriptor, never through a path a user could redirect; configure never journals what restore refuses.
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pinDirInRoot, withPinnedParent } from '../../../src/fs/pinned-dir.js';
import { JournalFile } from '../../../src/inject/journal-file.js';

function fixture(): { base: string; root: string; outside: string; [Symbol.dispose]: () => void } {
  const base = mkdtempSync(join(tmpdir(), 'dib-pypi-pin-'));
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  mkdirSync(join(root, 'home/u/.pip'), { recursive: true });
  mkdirSync(outside);
  return { base, root, outside, [Symbol.dispose]: () => rmSync(base, { recursive: true, force: true }) };
}

describe('pinDirInRoot', () => {
  test('a directory swapped for a symlink is refused, and a missing one is undefined', () => {
    using f = fixture();
    symlinkSync(f.outside, join(f.root, 'home/u/.pipx'));
    renameSync(join(f.root, 'home/u/.pip'), join(f.root, 'home/u/.old'));
    renameSync(join(f.root, 'home/u/.pipx'), join(f.root, 'home/u/.pip'));
    assert.throws(() => pinDirInRoot(f.root, '/home/u/.pip'), /now a symlink/);
    symlinkSync(f.outside, join(f.root, 'home/v'));
    assert.throws(() => pinDirInRoot(f.root, '/home/v/x'), /symlink/);
    assert.equal(pinDirInRoot(f.root, '/home/nobody'), undefined);
  });

  test('writes through the pinned path stay in the directory that was opened, even after it is swapped', () => {
    using f = fixture();
    const dir = pinDirInRoot(f.root, '/home/u/.pip');
    assert.ok(dir !== undefined);
    try {
      // The swap happens after the check: the descriptor still names the directory inside the root.
      renameSync(join(f.root, 'home/u/.pip'), join(f.root, 'home/u/.old'));
      symlinkSync(f.outside, join(f.root, 'home/u/.pip'));
      writeFileSync(dir.entry('pip.conf'), '[global]\n', { flag: 'wx' });
    } finally {
      dir.close();
    }
    assert.ok(existsSync(join(f.root, 'home/u/.old/pip.conf')));
    assert.ok(!existsSync(join(f.outside, 'pip.conf')));
  });

  test('withPinnedParent hands the entry name and does not follow a symlink in it', () => {
    using f = fixture();
    symlinkSync(f.outside, join(f.root, 'home/u/.pip/pip.conf'));
    const isLink = withPinnedParent(f.root, '/home/u/.pip/pip.conf', (dir, name) => lstatSync(dir.entry(name)).isSymbolicLink());
    assert.equal(isLink, true);
    assert.equal(
      withPinnedParent(f.root, '/nowhere/pip.conf', () => true),
      undefined,
    );
  });
});

describe('JournalFile.append', () => {
  test('refuses a record restore would refuse, and writes nothing', () => {
    using f = fixture();
    const journal = new JournalFile(join(f.base, 'state'));
    journal.append({ op: 'begin', root: f.root, dev: '1', ino: '2' });
    // what resolving a /tmp/pypi -> /etc link used to record
    assert.throws(
      () => journal.append({ op: 'mount', path: '/etc', kind: 'bind-ro' }),
      /refusing to journal mount "\/etc": it names a mount point dib-pypi never uses/,
    );
    assert.deepEqual(
      journal.records.map((r) => r.op),
      ['begin'],
    );
    journal.close();
  });
});
