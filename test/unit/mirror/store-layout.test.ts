// The mirror's layout rules: where things go, which names are sidecars, temps, mirror files, and whose temps they are.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addWorkOwner,
  addWorkPrefix,
  distPath,
  isMirrorFile,
  isSidecar,
  isVisibleDist,
  lockPath,
  partOwner,
  privateMarker,
  SIDECARS,
  STATE_DIR,
  stateDir,
  uploadTempDir,
  uploadTimeText,
  upstreamStateDir,
} from '../../../src/mirror/store/layout.js';
import { partPathFor } from '../../../src/upstream/part-path.js';

test('layout paths: files in their project directory, state under DIR/.dib-pypi', () => {
  assert.equal(STATE_DIR, '.dib-pypi');
  assert.equal(distPath('/m', 'demo', 'demo-1.0.tar.gz'), '/m/demo/demo-1.0.tar.gz');
  assert.equal(stateDir('/m'), '/m/.dib-pypi');
  assert.equal(uploadTempDir('/m'), '/m/.dib-pypi/uploads');
  assert.equal(privateMarker('/m', 'secret'), '/m/.dib-pypi/private/secret');
  assert.equal(upstreamStateDir('/m', 'demo'), '/m/.dib-pypi/upstream/demo');
  assert.equal(lockPath('/m', 'index'), '/m/.dib-pypi/index.lock');
  assert.equal(lockPath('/m', 'sync'), '/m/.dib-pypi/sync.lock');
});

test('sidecars: .yanked and .upload-time; upload-time text is one line', () => {
  assert.deepEqual([...SIDECARS], ['.yanked', '.upload-time']);
  for (const [name, expected] of [
    ['a-1.0.tar.gz.yanked', true],
    ['a-1.0-py3-none-any.whl.upload-time', true],
    ['a-1.0.tar.gz', false],
    ['a-1.0.tar.gz.metadata', false],
    ['index.html', false],
  ] as const) {
    assert.equal(isSidecar(name), expected, name);
  }
  assert.equal(uploadTimeText('2024-01-02T03:04:05Z'), '2024-01-02T03:04:05Z\n');
});

test('partOwner: the pid in a download temp name; anything else has none', () => {
  const temp = partPathFor('/m/demo/demo-1.0.tar.gz', 'w');
  assert.equal(partOwner(temp.slice(temp.lastIndexOf('/') + 1)), process.pid);
  assert.equal(partOwner('.demo-1.0.tar.gz.part-1234-7'), 1234);
  assert.equal(partOwner('.demo-1.0.tar.gz.part-99-w3'), 99);
  assert.equal(partOwner('demo-1.0.tar.gz.part-1234-7'), undefined, 'not hidden: not a temp');
  assert.equal(partOwner('.demo-1.0.tar.gz'), undefined);
});

test('add work directories: add-<pid>-XXXXXX, and whose they are', () => {
  assert.equal(addWorkPrefix(42), 'add-42-');
  assert.equal(addWorkOwner('add-42-abc123'), 42);
  assert.equal(addWorkOwner(`${addWorkPrefix(7)}zzz`), 7);
  for (const name of ['manifest.json', 'add-x-1', 'uploads', 'sync.lock']) assert.equal(addWorkOwner(name), undefined, name);
});

test('isVisibleDist and isMirrorFile: what a project directory holds that dib-pypi made', () => {
  assert.equal(isVisibleDist('a-1.0.tar.gz'), true);
  assert.equal(isVisibleDist('a-1.0-py3-none-any.whl'), true);
  assert.equal(isVisibleDist('.a-1.0.tar.gz'), false);
  assert.equal(isVisibleDist('README.txt'), false);
  for (const name of [
    'a-1.0.tar.gz',
    'a-1.0.tar.gz.yanked',
    'a-1.0.tar.gz.upload-time',
    'a-1.0-py3-none-any.whl.metadata',
    'index.html',
    'index.json',
    '.a-1.0.tar.gz.part-1-1',
    '.index.html.tmp-12-3',
  ]) {
    assert.equal(isMirrorFile(name), true, name);
  }
  for (const name of ['README.txt', 'notes', 'index.htm', '.keep']) assert.equal(isMirrorFile(name), false, name);
});
