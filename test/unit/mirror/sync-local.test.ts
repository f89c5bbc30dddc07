// The mirror side of sync --delete for whole projects: which directories are projects, what removing one takes.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hasDistributions, mirrorProjectDirs } from '../../../src/mirror/sync/local.js';
import { removeProject } from '../../../src/mirror/store/project-files.js';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'dib-pypi-sync-local-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

test('mirrorProjectDirs: normalised project names only; state, dot and other directories are not projects', () => {
  const dir = tree({ 'a-b/x.whl': '', 'Not_Normal/x.whl': '', '.dib-pypi/manifest.json': '', '.hidden/x.whl': '', 'top.whl': '' });
  try {
    mkdirSync(join(dir, 'empty'));
    symlinkSync(join(dir, 'a-b'), join(dir, 'linked'));
    assert.deepEqual(mirrorProjectDirs(dir), ['a-b', 'empty']);
    assert.deepEqual(mirrorProjectDirs(join(dir, 'missing')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('removeProject: files, sidecars, .metadata, pages and temps go, then the directory; what sync did not make stays, with the directory', () => {
  const made = {
    'p/p-1.0-py3-none-any.whl': 'w',
    'p/p-1.0-py3-none-any.whl.metadata': 'm',
    'p/p-1.0-py3-none-any.whl.yanked': '',
    'p/p-1.0.tar.gz': 's',
    'p/p-1.0.tar.gz.upload-time': 't',
    'p/index.html': '',
    'p/index.json': '',
    'p/.p-2.0.tar.gz.part-1-1': '',
  };
  const dir = tree({ ...made, 'q/q-1.0.tar.gz': 'q', 'q/notes.txt': 'mine', 'pages-only/index.html': '' });
  try {
    assert.deepEqual(removeProject(dir, 'p'), { files: 2, left: [] });
    assert.equal(existsSync(join(dir, 'p')), false);
    assert.deepEqual(removeProject(dir, 'q'), { files: 1, left: ['notes.txt'] });
    assert.deepEqual(readdirSync(join(dir, 'q')), ['notes.txt']);
    // only pages (the index's, for files kept elsewhere): not a project of sync's
    assert.equal(hasDistributions(dir, 'pages-only'), false);
    assert.equal(removeProject(dir, 'pages-only'), undefined);
    assert.ok(existsSync(join(dir, 'pages-only', 'index.html')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
