// Who may remove or yank over HTTP: every upload user without an ACL; with one, the project's owners and
// those its [upload] lines grant, never by the right to create.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { trustedOwners } from '../../../src/fs/trust-dir.js';
import { parseUploadAcl } from '../../../src/server/acl-file.js';
import { runCacheAction } from '../../../src/server/cache-admin.js';
import { changeRights } from '../../../src/server/may-change.js';
import { UploadRights } from '../../../src/server/upload-rights.js';
import { makeTempDir } from '../../helpers/python.js';

test('changeRights: without an ACL any upload user; with one, owners and [upload] grants, not [create]', async () => {
  const open = changeRights(undefined);
  assert.deepEqual(open('anyone', 'team-x'), { allowed: true });
  assert.equal(open('', 'team-x').allowed, false);

  await using dir = makeTempDir('dib-pypi-may-change-');
  mkdirSync(join(dir.path, '.dib-pypi'), { mode: 0o755 });
  const acl = parseUploadAcl('[create]\n* = alice, carol\n[upload]\nshared-* = bob\n', 'acl.ini');
  const rights = new UploadRights(dir.path, acl, trustedOwners({}, process.getuid?.() ?? 0));
  rights.claim('alice', 'team-x');
  mkdirSync(join(dir.path, 'team-x'));
  writeFileSync(join(dir.path, 'team-x', 'team_x-1.0-py3-none-any.whl'), 'x');
  const may = changeRights(rights);
  assert.deepEqual(may('alice', 'team-x'), { allowed: true }, 'the owner');
  assert.deepEqual(may('bob', 'shared-lib'), { allowed: true }, 'granted by [upload]');
  const other = may('carol', 'team-x');
  assert.equal(other.allowed, false);
  assert.match(other.allowed ? '' : other.reason, /carol may not upload to team-x: owned by alice/);
  const creator = may('carol', 'brand-new');
  assert.equal(creator.allowed, false, 'the right to create is no right to change');
  assert.match(creator.allowed ? '' : creator.reason, /carol.*may not change brand-new/);
});

test('invalidating a kept page over HTTP takes the same right as changing the project', () => {
  const invalidated: string[] = [];
  const cache = {
    invalidate: (project: string) => {
      invalidated.push(project);
      return true;
    },
    stats: () => ({ files: 0, bytes: 0, maxBytes: null, evictedFiles: 0, evictedBytes: 0 }),
  };
  const onlyTeam = (project: string) => (project.startsWith('team-') ? { allowed: true as const } : { allowed: false as const, reason: `not ${project}` });
  assert.deepEqual(runCacheAction(cache, 'invalidate', { project: 'Team_X' }, onlyTeam), { ok: true, value: { project: 'team-x', invalidated: true } });
  assert.deepEqual(runCacheAction(cache, 'invalidate', { project: 'other' }, onlyTeam), { ok: false, status: 403, message: 'not other' });
  assert.deepEqual(invalidated, ['team-x']);
  assert.equal(runCacheAction(undefined, 'cache', {}, onlyTeam).ok, false);
});
