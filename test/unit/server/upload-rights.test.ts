// The upload ACL over a real mirror directory: owners recorded in DIR/.dib-pypi/owners.json (atomic,
// read back by a new server), what counts as a new project, and owners or ACL files that others could have written.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { StateError } from '../../../src/errors.js';
import { trustedOwners } from '../../../src/fs/trust-dir.js';
import { untrustedFile } from '../../../src/fs/trust-file.js';
import { parseOwners, projectHasFiles, readOwners, renderOwners } from '../../../src/mirror/store/owners.js';
import { parseUploadAcl } from '../../../src/server/acl-file.js';
import { UploadRights } from '../../../src/server/upload-rights.js';
import { makeTempDir } from '../../helpers/python.js';
import { isRoot, need } from '../../helpers/require.js';

const TRUSTED = trustedOwners({}, process.getuid?.() ?? 0);
const ACL = parseUploadAcl('[create]\n* = alice, bob\n[upload]\nshared-* = bob\n', 'acl.ini');

function mirror(path: string): string {
  mkdirSync(join(path, '.dib-pypi'), { recursive: true, mode: 0o755 });
  return path;
}

test('the first upload of a new project records its owner durably; a restarted server knows it', async () => {
  await using dir = makeTempDir('dib-pypi-rights-');
  const rights = new UploadRights(mirror(dir.path), ACL, TRUSTED);
  assert.deepEqual(rights.mayChange('alice', 'Team_X'), { allowed: true, via: 'create', claims: true });
  assert.deepEqual(rights.claim('alice', 'Team_X'), { allowed: true, via: 'create', claims: true });
  assert.deepEqual(rights.ownersOf('team-x'), ['alice']);
  const path = join(dir.path, '.dib-pypi', 'owners.json');
  assert.equal(readFileSync(path, 'utf8'), '{\n  "version": 1,\n  "projects": {\n    "team-x": [\n      "alice"\n    ]\n  }\n}\n');
  assert.equal(statSync(path).mode & 0o777, 0o644);
  assert.deepEqual(
    readdirSync(join(dir.path, '.dib-pypi')).filter((n) => n.includes('tmp')),
    [],
    'no temp file left',
  );
  // Bob races in after alice claimed: refused, and the record stays alice's.
  assert.deepEqual(rights.claim('bob', 'team.x'), { allowed: false, reason: 'user bob may not upload to team-x: owned by alice' });
  // A restart: the owners come back from the file.
  const again = new UploadRights(dir.path, ACL, TRUSTED);
  assert.deepEqual(again.mayChange('bob', 'TEAM-X'), { allowed: false, reason: 'user bob may not upload to team-x: owned by alice' });
  assert.deepEqual(again.mayChange('alice', 'team-x'), { allowed: true, via: 'owner', claims: false });
  // A second project is added beside the first, both kept, sorted.
  again.claim('bob', 'an-other');
  assert.deepEqual(Object.keys((JSON.parse(readFileSync(path, 'utf8')) as { projects: object }).projects), ['an-other', 'team-x']);
  // The ACL-named project gets no owner.
  assert.deepEqual(again.claim('bob', 'shared-lib'), { allowed: true, via: 'acl', claims: false });
  assert.deepEqual(again.ownersOf('shared-lib'), []);
});

test('a project is not new when the mirror holds its files: in its directory, a private marker, or loose at the top', async () => {
  await using dir = makeTempDir('dib-pypi-rights-files-');
  mirror(dir.path);
  assert.equal(projectHasFiles(dir.path, 'demo'), false);
  mkdirSync(join(dir.path, 'demo'));
  writeFileSync(join(dir.path, 'demo', 'index.html'), '');
  assert.equal(projectHasFiles(dir.path, 'demo'), false, 'pages alone (a removed project) are no files');
  writeFileSync(join(dir.path, 'demo', 'demo-1.0-py3-none-any.whl'), 'x');
  assert.equal(projectHasFiles(dir.path, 'demo'), true);
  writeFileSync(join(dir.path, 'Loose_Pkg-2.0.tar.gz'), 'x');
  assert.equal(projectHasFiles(dir.path, 'loose-pkg'), true);
  writeFileSync(join(dir.path, 'foo-bar-1.0.tar.gz'), 'x');
  assert.equal(projectHasFiles(dir.path, 'foo'), true, 'pip could read foo-bar-1.0.tar.gz as foo version bar-1.0');
  mkdirSync(join(dir.path, '.dib-pypi', 'private'));
  writeFileSync(join(dir.path, '.dib-pypi', 'private', 'gone'), '');
  assert.equal(projectHasFiles(dir.path, 'gone'), true);
  const rights = new UploadRights(dir.path, ACL, TRUSTED);
  assert.deepEqual(rights.claim('alice', 'demo'), {
    allowed: false,
    reason: 'user alice may not upload to demo: not granted by the ACL (the project has files and no owner)',
  });
  assert.deepEqual(rights.ownersOf('demo'), []);
});

test('owners files: malformed ones are refused with the file named; spellings of one project merge', () => {
  assert.deepEqual([...parseOwners('{"version":1,"projects":{"Team_X":["a"],"team-x":["b","a"]}}')], [['team-x', ['a', 'b']]]);
  assert.equal(
    renderOwners(
      new Map([
        ['b', ['x']],
        ['a', ['y']],
      ]),
    ),
    '{\n  "version": 1,\n  "projects": {\n    "a": [\n      "y"\n    ],\n    "b": [\n      "x"\n    ]\n  }\n}\n',
  );
  for (const [text, pattern] of [
    ['{', /JSON/],
    ['{"version":2,"projects":{}}', /expected \{"version": 1/],
    ['{"version":1,"projects":[]}', /"projects" is not an object/],
    ['{"version":1,"projects":{"__proto__":["a"]}}', /"__proto__" is not a project name/],
    ['{"version":1,"projects":{"a":"alice"}}', /not a list of user names/],
    ['{"version":1,"projects":{"a":[""]}}', /not a list of user names/],
  ] as const) {
    assert.throws(() => parseOwners(text), pattern, text);
  }
});

test('an owners file or directory others could write, a symlink, or a malformed file: refused at start, naming it', async (t) => {
  await using dir = makeTempDir('dib-pypi-rights-trust-');
  const state = join(mirror(dir.path), '.dib-pypi');
  const path = join(state, 'owners.json');
  writeFileSync(path, renderOwners(new Map([['team-x', ['alice']]])), { mode: 0o644 });
  assert.deepEqual([...readOwners(dir.path, TRUSTED)], [['team-x', ['alice']]]);
  const refused = (pattern: RegExp) =>
    assert.throws(
      () => new UploadRights(dir.path, ACL, TRUSTED),
      (error: unknown) => error instanceof StateError && pattern.test(error.message) && !error.message.includes('\n'),
    );
  chmodSync(path, 0o664);
  refused(/^untrusted owners file: .*owners\.json is writable by its group \(mode 0664\); whoever can write it decides who may upload$/);
  chmodSync(path, 0o646);
  refused(/owners\.json is writable by others/);
  chmodSync(path, 0o644);
  chmodSync(state, 0o1777);
  refused(/\.dib-pypi is writable by its group and others \(mode 1777\)/);
  chmodSync(state, 0o755);
  linkSync(path, join(dir.path, 'hard-link'));
  refused(/has 2 hard links/);
  rmSync(join(dir.path, 'hard-link'));
  writeFileSync(join(state, 'elsewhere.json'), '{"version":1,"projects":{}}');
  rmSync(path);
  symlinkSync(join(state, 'elsewhere.json'), path);
  refused(/owners\.json: is a symlink/);
  rmSync(path);
  writeFileSync(path, '{"version":1,"projects":{"x":"alice"}}');
  refused(/owners\.json: not an owners file: the owners of x are not a list of user names/);
  writeFileSync(path, '{"version":1,"projects":{}}');
  if (!need(t, isRoot, 'changing a file to another owner needs root')) return;
  chownSync(path, 12345, 12345);
  refused(/owners\.json is owned by uid 12345, not by root/);
  chownSync(path, 0, 0);
  chownSync(state, 12345, 12345);
  refused(/\.dib-pypi is owned by uid 12345/);
});

test('a state directory others could write is refused before any owners file is in it, at start and when a new owner is recorded', async () => {
  await using dir = makeTempDir('dib-pypi-rights-statedir-');
  const state = join(mirror(dir.path), '.dib-pypi');
  chmodSync(state, 0o775);
  assert.throws(
    () => new UploadRights(dir.path, ACL, TRUSTED),
    /^StateError: untrusted owners file directory: .*\.dib-pypi is writable by its group \(mode 0775\); whoever can write it decides who may upload$/,
  );
  chmodSync(state, 0o755);
  const rights = new UploadRights(dir.path, ACL, TRUSTED);
  chmodSync(state, 0o777);
  assert.throws(() => rights.claim('alice', 'new-one'), /untrusted owners file directory: .*\.dib-pypi is writable by its group and others/);
  assert.deepEqual(readdirSync(state), [], 'nothing written into it');
  assert.deepEqual(rights.ownersOf('new-one'), [], 'and nobody recorded as owner');
  chmodSync(state, 0o755);
  // No state directory yet (a new mirror): nothing to check, nobody owns anything.
  await using fresh = makeTempDir('dib-pypi-rights-fresh-');
  assert.deepEqual(new UploadRights(fresh.path, ACL, TRUSTED).ownersOf('x'), []);
});

test('untrustedFile: an ACL file behind a link is checked where it really is, and the link where it is', async () => {
  await using dir = makeTempDir('dib-pypi-rights-acl-');
  const real = join(dir.path, 'real');
  const open = join(dir.path, 'open');
  mkdirSync(real, { mode: 0o755 });
  mkdirSync(open, { mode: 0o755 });
  writeFileSync(join(real, 'acl.ini'), '', { mode: 0o644 });
  symlinkSync(join(real, 'acl.ini'), join(open, 'acl.ini'));
  assert.equal(untrustedFile(join(open, 'acl.ini'), TRUSTED), undefined);
  chmodSync(open, 0o777);
  assert.deepEqual(untrustedFile(join(open, 'acl.ini'), TRUSTED), { path: open, reason: 'is writable by its group and others (mode 0777) and not sticky' });
  chmodSync(open, 0o755);
  chmodSync(real, 0o775);
  assert.deepEqual(untrustedFile(join(open, 'acl.ini'), TRUSTED), { path: real, reason: 'is writable by its group (mode 0775) and not sticky' });
  chmodSync(real, 0o1777);
  assert.equal(untrustedFile(join(real, 'acl.ini'), TRUSTED), undefined, 'a sticky directory (/tmp) may hold it');
  chmodSync(join(real, 'acl.ini'), 0o666);
  assert.deepEqual(untrustedFile(join(real, 'acl.ini'), TRUSTED), { path: join(real, 'acl.ini'), reason: 'is writable by its group and others (mode 0666)' });
});
