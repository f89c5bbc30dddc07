// checkJournalRecords: a journal is obeyed only when every record is one configure could have written.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkJournalRecords } from '../../../src/inject/journal-rules.js';

const BEGIN = { op: 'begin', root: '/srv/chroot', dev: '2049', ino: '1234' };
const TIMES = { atimeNs: '1700000000000000005', mtimeNs: '-1500000000' };
const FILE = { op: 'file', path: '/etc/pip.conf', backup: 'backup-1', crc32: '0a1b2c3d', size: 12, mode: 0o644, uid: 0, gid: 0, ...TIMES };

/** What configure writes for a busy root, a home behind a symlink, and `dib-pypi chroot`'s mounts. */
const GOOD: unknown[] = [
  BEGIN,
  { op: 'home', path: '/home/carol' },
  { op: 'dir', path: '/', ...TIMES },
  { op: 'mkdir', path: '/proc' },
  { op: 'mkdir', path: '/dev' },
  { op: 'mkdir', path: '/dev/pts' },
  { op: 'mkdir', path: '/tmp' },
  { op: 'mkdir', path: '/tmp/pypi' },
  FILE,
  { op: 'temp', path: '/etc/.pip.conf.tmp-77-1' },
  { op: 'symlink', path: '/etc/xdg/pip/pip.conf', target: '/opt/x', uid: 0, gid: 0, ...TIMES },
  { op: 'mkdir', path: '/home' },
  { op: 'mkdir', path: '/home/carol' },
  { op: 'absent', path: '/home/carol/.pydistutils.cfg' },
  { op: 'temp', path: '/home/carol/..pydistutils.cfg.tmp-77-2' },
  // /root -> /srv/elsewhere inside the root: the physical directories created are named by the link
  { op: 'mkdir', path: '/srv' },
  { op: 'mkdir', path: '/srv/elsewhere' },
  { op: 'absent', path: '/srv/elsewhere/.pydistutils.cfg' },
  { op: 'file', path: '/var/root/.pip/pip.conf', backup: 'backup-2', crc32: 'ffffffff', size: 0, mode: 0o600, uid: 1000, gid: 1000, ...TIMES },
  { op: 'configured' },
  { op: 'mount', path: '/proc', kind: 'proc' },
  { op: 'mount', path: '/dev', kind: 'bind' },
  { op: 'mount', path: '/dev/pts', kind: 'bind' },
  { op: 'mount', path: '/var/tmp/pypi', kind: 'bind-ro' },
  { op: 'restored' },
];

test('a journal as configure writes it passes', () => {
  checkJournalRecords(GOOD, '/state/journal');
  checkJournalRecords([], '/state/journal');
  checkJournalRecords([BEGIN], '/state/journal');
  // a crash right after journaling a directory of a symlinked home: the last record
  checkJournalRecords([BEGIN, { op: 'mkdir', path: '/srv' }], '/state/journal');
});

const BAD: { what: string; record: unknown; message: RegExp }[] = [
  {
    what: 'a setuid file outside the pip.conf places',
    record: { ...FILE, path: '/usr/local/bin/x', mode: 0o4755 },
    message:
      /record 2 \(file "\/usr\/local\/bin\/x"\) names a file configure never writes \(only pip\.conf, \.pydistutils\.cfg, pypi-requirements\.lock\); nothing was changed$/,
  },
  {
    what: 'a setuid pip.conf',
    record: { ...FILE, mode: 0o4755 },
    message: /record 2 \(file "\/etc\/pip\.conf"\) has mode 04755: a setuid, setgid or sticky bit/,
  },
  { what: 'a setgid pip.conf', record: { ...FILE, mode: 0o2644 }, message: /has mode 02644/ },
  { what: 'a sticky pip.conf', record: { ...FILE, mode: 0o1644 }, message: /has mode 01644/ },
  { what: 'a backup outside the state directory', record: { ...FILE, backup: '../../../etc/shadow' }, message: /\(file "\/etc\/pip\.conf"\) is malformed/ },
  { what: 'a negative owner', record: { ...FILE, uid: -1 }, message: /is malformed/ },
  {
    what: 'a deletion of another file',
    record: { op: 'absent', path: '/etc/shadow' },
    message: /\(absent "\/etc\/shadow"\) names a file configure never writes/,
  },
  {
    what: 'a symlink planted as /etc/passwd',
    record: { op: 'symlink', path: '/etc/passwd', target: '/tmp/x', uid: 0, gid: 0, ...TIMES },
    message: /names a file configure never writes/,
  },
  {
    what: 'a removal of an unrelated empty directory',
    record: { op: 'mkdir', path: '/run/sshd' },
    message: /\(mkdir "\/run\/sshd"\) names a directory configure never creates/,
  },
  { what: 'a temp that is not beside a target', record: { op: 'temp', path: '/etc/.shadow.tmp-1-1' }, message: /names a temp file configure never writes/ },
  { what: 'an unmount of the root file system', record: { op: 'mount', path: '/', kind: 'bind' }, message: /names a mount point dib-pypi never uses/ },
  { what: 'a mount of the wrong kind', record: { op: 'mount', path: '/tmp/pypi', kind: 'bind' }, message: /has mount kind "bind", not bind-ro/ },
  { what: 'a relative path', record: { op: 'absent', path: 'etc/pip.conf' }, message: /is malformed/ },
  { what: 'a path with ..', record: { op: 'absent', path: '/etc/../etc/pip.conf' }, message: /is malformed/ },
  { what: 'an unknown operation', record: { op: 'chmod', path: '/etc/pip.conf' }, message: /\(chmod "\/etc\/pip\.conf"\) has an unknown operation/ },
  { what: 'something that is no object', record: ['file'], message: /record 2 \(record\) has an unknown operation/ },
];

for (const { what, record, message } of BAD) {
  test(`refused as a whole: ${what}`, () => {
    // a good record after the bad one: nothing of the journal may be obeyed
    assert.throws(
      () => checkJournalRecords([BEGIN, record, FILE, { op: 'configured' }], '/state/journal'),
      (error: Error) => {
        assert.equal(error.name, 'StateError');
        assert.match(error.message, /^refusing the journal \/state\/journal: /);
        assert.match(error.message, message);
        assert.ok(!error.message.includes('\n'), 'one line');
        return true;
      },
    );
  });
}

test('a journal must start with its begin record', () => {
  assert.throws(() => checkJournalRecords([FILE], '/j'), /record 1 \(file "\/etc\/pip\.conf"\) is not the begin record/);
});

test("the system targets' directories are creatable without a home record (a journal of an earlier dib-pypi)", () => {
  checkJournalRecords(
    [BEGIN, { op: 'mkdir', path: '/etc' }, { op: 'mkdir', path: '/etc/xdg' }, { op: 'mkdir', path: '/etc/xdg/pip' }, { op: 'configured' }],
    '/j',
  );
});

test('a home directory is creatable only for a journaled home', () => {
  const records = (home: string) => [BEGIN, { op: 'home', path: home }, { op: 'mkdir', path: '/home/carol' }, { op: 'configured' }];
  checkJournalRecords(records('/home/carol'), '/j');
  assert.throws(() => checkJournalRecords(records('/root'), '/j'), /\(mkdir "\/home\/carol"\) names a directory configure never creates/);
});
