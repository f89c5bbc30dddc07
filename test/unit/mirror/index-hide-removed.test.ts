// What the index does not see while a removal is under way (pure): a removed project's directory is left off,
// removed files are hidden in the directory that holds them (top level included), other paths are ignored.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hideRemoved, type TopDir } from '../../../src/mirror/index/scan-mirror.js';

const top = (): TopDir[] => [
  { rel: '', mtime: '1', entries: [] },
  { rel: 'a', mtime: '2' },
  { rel: 'b', mtime: '3' },
];

test('nothing under way: the same directories, nothing hidden', () => {
  assert.deepEqual(hideRemoved(top(), new Set()), top());
});

test('a project directory goes, files are hidden where they are, paths elsewhere change nothing', () => {
  const removing = new Set([
    'b',
    'a/a-2.0-py3-none-any.whl',
    'a/a-2.0-py3-none-any.whl.metadata',
    'a-2.0.tar.gz',
    '.dib-pypi/upstream/a/x.metadata',
    'c/c-1.0.tar.gz',
  ]);
  assert.deepEqual(hideRemoved(top(), removing), [
    { rel: '', mtime: '1', entries: [], hidden: new Set(['a-2.0.tar.gz']) },
    { rel: 'a', mtime: '2', hidden: new Set(['a-2.0-py3-none-any.whl', 'a-2.0-py3-none-any.whl.metadata']) },
  ]);
});
