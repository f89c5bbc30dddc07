// A journal written by someone else is never obeyed: an unprivileged user plants one where a root `restore` looks, and restore refuses it, touching nothing.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cleanEnv, runCli, type CliResult } from '../../helpers/cli.js';
import { makeBusyRoot, type FixtureRoot } from '../../helpers/fixture-root.js';
import { asAttacker, attacker, attackerAvailable } from '../../helpers/attacker.js';
import { isRoot, need } from '../../helpers/require.js';
import { listTree } from '../../helpers/tree-listing.js';
import { crc32Hex } from '../../../src/fs/crc32.js';
import { stateDirOf } from '../../../src/inject/journal-file.js';
import { encodeRecord, JOURNAL_HEADER, type JournalRecord } from '../../../src/inject/journal-format.js';

const MIRROR = ['--mirror-url', 'http://127.0.0.1:8080/simple'];
const available = attackerAvailable;

/**
 * The forged journal: well-formed (lengths and checksums right) and naming only what configure
 * writes, so that the trust check alone stands between it and restore: it would overwrite the
 * root's `/root/.pydistutils.cfg` with the attacker's bytes and delete `/etc/xdg/pip/pip.conf`.
 * A torn last line would be cut off by a trusting load: it must survive too.
 */
function forgedJournal(root: string): { journal: string; backup: string } {
  const stat = statSync(root, { bigint: true });
  const backup = '[easy_install]\nindex_url = http://evil.example/simple\n';
  const records: JournalRecord[] = [
    { op: 'begin', root, dev: String(stat.dev), ino: String(stat.ino) },
    { op: 'home', path: '/root' },
    { op: 'absent', path: '/etc/xdg/pip/pip.conf' },
    {
      op: 'file',
      path: '/root/.pydistutils.cfg',
      backup: 'backup-1',
      crc32: crc32Hex(Buffer.from(backup)),
      size: Buffer.byteLength(backup),
      mode: 0o644,
      uid: 0,
      gid: 0,
      atimeNs: '0',
      mtimeNs: '0',
    },
    { op: 'configured' },
  ];
  return { journal: `${JOURNAL_HEADER}\n${records.map(encodeRecord).join('')}12 deadbeef {"torn`, backup };
}

/** As the attacker: make `<stateRoot>/roots/<name>/` with the forged journal and backup, all world-readable. */
function plantJournal(stateRoot: string, root: string): string {
  const dir = stateDirOf(stateRoot, root);
  const { journal, backup } = forgedJournal(root);
  asAttacker('umask 022; mkdir -p "$1"; cat > "$1/journal"', [dir], journal);
  asAttacker('umask 022; cat > "$1/backup-1"', [dir], backup);
  return dir;
}

/** Everything under a directory, including owners, modes and bytes (the state directory's files too). */
function snapshot(paths: string[]): string[][] {
  return paths.map((p) => (existsSync(p) ? listTree(p) : ['absent']));
}

function assertRefused(result: CliResult, reason: RegExp): void {
  assert.equal(result.status, 1, `expected a refusal: ${result.stdout}${result.stderr}`);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${result.stderr}`);
  assert.match(lines[0] as string, /^dib-pypi: error: untrusted state directory/);
  assert.match(lines[0] as string, reason);
  assert.match(lines[0] as string, /nothing was changed$/);
  assert.equal(result.stdout, '');
}

/** A busy root whose parent is world-writable and sticky, like /tmp: where the DIB fallback looks. */
function rootInStickyDir(): FixtureRoot {
  const f = makeBusyRoot();
  chmodSync(f.base, 0o1777);
  return f;
}

describe('a forged journal is refused with nothing touched', () => {
  test('planted beside the root (<parent>/dib-pypi, the DIB fallback of a bare restore)', (t) => {
    if (!available(t)) return;
    using f = rootInStickyDir();
    const beside = join(f.base, 'dib-pypi');
    const dir = plantJournal(beside, f.root);
    const { uid } = attacker();
    const before = snapshot([f.root, beside]);
    // no --state-dir: the default one has no journal for this root, so restore looks beside it
    const result = runCli(['restore', '--root', f.root], { env: cleanEnv() });
    assertRefused(result, new RegExp(`${beside} is owned by uid ${uid}, not by root`));
    assert.deepEqual(snapshot([f.root, beside]), before, 'restore changed the root or the journal');
    assert.match(readFileSync(join(dir, 'journal'), 'utf8'), /\{"torn$/, 'the torn tail was cut off');
  });

  test('an unrelated <parent>/dib-pypi of another user, holding nothing for this root, is ignored by a bare restore', (t) => {
    if (!available(t)) return;
    using f = rootInStickyDir();
    const beside = join(f.base, 'dib-pypi');
    asAttacker('umask 022; mkdir -p "$1/roots/someone_elses_root-00000000"', [beside]);
    const before = snapshot([f.root, beside]);
    const result = runCli(['restore', '--root', f.root], { env: cleanEnv() });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^nothing to restore in /);
    assert.deepEqual(snapshot([f.root, beside]), before);
  });

  test('planted in a pre-created sub-directory of a world-writable --state-dir', (t) => {
    if (!available(t)) return;
    using f = makeBusyRoot();
    const shared = join(f.base, 'shared');
    chmodSync(f.base, 0o755);
    mkdirSync(shared);
    chmodSync(shared, 0o1777); // "a shared state directory for everyone"
    plantJournal(shared, f.root);
    const before = snapshot([f.root, shared]);
    const restored = runCli(['restore', '--root', f.root, '--state-dir', shared]);
    assertRefused(restored, new RegExp(`untrusted state directory: ${shared} is writable by its group and others \\(mode 1777\\)`));
    assert.deepEqual(snapshot([f.root, shared]), before);
    // configure refuses the same directory before it changes anything
    const configured = runCli(['configure', '--root', f.root, '--state-dir', shared, ...MIRROR]);
    assertRefused(configured, /is writable by its group and others/);
    assert.deepEqual(snapshot([f.root, shared]), before);
  });

  test("planted in a trusted state directory's sub-directory the attacker was let to own", (t) => {
    if (!available(t)) return;
    using f = makeBusyRoot();
    const { uid, gid } = attacker();
    mkdirSync(join(f.state, 'roots'), { recursive: true, mode: 0o700 });
    const dir = stateDirOf(f.state, f.root);
    mkdirSync(dir, { mode: 0o755 });
    chownSync(dir, uid, gid);
    chmodSync(join(f.state, 'roots'), 0o711);
    chmodSync(f.state, 0o711);
    chmodSync(f.base, 0o711);
    asAttacker('umask 022; cat > "$1/journal"', [dir], forgedJournal(f.root).journal);
    const before = snapshot([f.root, f.state]);
    const result = runCli(['restore', '--root', f.root, '--state-dir', f.state]);
    assertRefused(result, new RegExp(`${dir} is owned by uid ${uid}`));
    assert.deepEqual(snapshot([f.root, f.state]), before);
  });
});

describe('a journal naming what configure never writes is refused as a whole', () => {
  test('/usr/local/bin/x with mode 04755 (a setuid-root file), after a good record', (t) => {
    if (!need(t, isRoot, 'needs root (a root restore)')) return;
    using f = makeBusyRoot();
    mkdirSync(join(f.root, 'usr/local/bin'), { recursive: true });
    writeFileSync(join(f.root, 'usr/local/bin/x'), 'original\n');
    chmodSync(join(f.root, 'usr/local/bin/x'), 0o755);
    // a genuine journal, then the forged record appended to it, checksum and all
    assert.equal(runCli(['configure', '--root', f.root, '--state-dir', f.state, ...MIRROR]).status, 0);
    const dir = stateDirOf(f.state, f.root);
    const payload = Buffer.from('#!/bin/sh\nexec /bin/sh -p\n');
    writeFileSync(join(dir, 'backup-99'), payload, { mode: 0o600 });
    const record: JournalRecord = {
      op: 'file',
      path: '/usr/local/bin/x',
      backup: 'backup-99',
      crc32: crc32Hex(payload),
      size: payload.length,
      mode: 0o4755,
      uid: 0,
      gid: 0,
      atimeNs: '0',
      mtimeNs: '0',
    };
    writeFileSync(join(dir, 'journal'), encodeRecord(record), { flag: 'a' });
    // the state directory is trusted: restore takes its lock there (roots/'s mtime changes), no more
    const before = snapshot([f.root, dir]);
    const result = runCli(['restore', '--root', f.root, '--state-dir', f.state]);
    assert.equal(result.status, 1, result.stderr);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(
      result.stderr,
      /^dib-pypi: error: refusing the journal .*\/journal: record \d+ \(file "\/usr\/local\/bin\/x"\) names a file configure never writes .*nothing was changed\n$/,
    );
    assert.deepEqual(snapshot([f.root, dir]), before, 'not even the genuine records were replayed');
    assert.equal(statSync(join(f.root, 'usr/local/bin/x')).mode & 0o7777, 0o755);
  });
});

describe('a group-writable parent of the state directory', () => {
  test('configure and restore refuse it before they change anything; fixed, restore works', (t) => {
    if (!need(t, isRoot, 'needs root (a root restore)')) return;
    using f = makeBusyRoot();
    const original = listTree(f.root);
    chmodSync(f.base, 0o775);
    const refused = runCli(['configure', '--root', f.root, '--state-dir', f.state, ...MIRROR]);
    assertRefused(refused, new RegExp(`untrusted state directory ${f.state}: ${f.base} is writable by its group \\(mode 0775\\) and not sticky`));
    assert.ok(!existsSync(f.state), 'configure created the state directory');
    assert.deepEqual(listTree(f.root), original);
    chmodSync(f.base, 0o700);
    assert.equal(runCli(['configure', '--root', f.root, '--state-dir', f.state, ...MIRROR]).status, 0);
    chmodSync(f.base, 0o775);
    const before = snapshot([f.root, f.state]);
    assertRefused(runCli(['restore', '--root', f.root, '--state-dir', f.state]), /is writable by its group/);
    assert.deepEqual(snapshot([f.root, f.state]), before);
    assert.deepEqual(readdirSync(join(f.state, 'roots')).length, 1, 'the journal stays for a retry');
    chmodSync(f.base, 0o700);
    assert.equal(runCli(['restore', '--root', f.root, '--state-dir', f.state]).status, 0);
    assert.deepEqual(listTree(f.root), original);
  });
});

describe('the DIB element under sudo', () => {
  test('$TMP_BUILD_DIR owned by the user who ran sudo (SUDO_UID) is trusted; by anyone else, refused', (t) => {
    if (!available(t)) return;
    using f = makeBusyRoot();
    const { uid, gid } = attacker(); // here: the build user who ran disk-image-create
    const original = listTree(f.root);
    const buildDir = join(f.base, 'dib_build.x');
    mkdirSync(buildDir, { mode: 0o700 });
    chownSync(buildDir, uid, gid);
    chmodSync(f.base, 0o755);
    const state = join(buildDir, 'dib-pypi');
    const sudo = cleanEnv({ SUDO_UID: String(uid), SUDO_GID: String(gid) });
    const refused = runCli(['configure', '--root', f.root, '--state-dir', state, ...MIRROR]);
    assertRefused(refused, new RegExp(`${buildDir} is owned by uid ${uid}, not by root`));
    assert.equal(runCli(['configure', '--root', f.root, '--state-dir', state, ...MIRROR], { env: sudo }).status, 0);
    assertRefused(runCli(['restore', '--root', f.root, '--state-dir', state]), /is owned by uid/);
    const restored = runCli(['restore', '--root', f.root, '--state-dir', state], { env: sudo });
    assert.equal(restored.status, 0, restored.stderr);
    assert.deepEqual(listTree(f.root), original);
  });
});
