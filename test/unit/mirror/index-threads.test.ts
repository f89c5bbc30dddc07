// indexThreads: how many threads the indexer starts, by where the files come from, and its override.
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import test from 'node:test';
import { indexThreads } from '../../../src/mirror/index/inspect-pool.js';

test('from the page cache: one thread per core, at least 2 and at most 4', () => {
  assert.equal(indexThreads(false, {}), Math.max(2, Math.min(4, availableParallelism())));
});

test('from the disk: 4 threads, to overlap the reads', () => {
  assert.equal(indexThreads(true, {}), 4);
});

test('DIB_PYPI_INDEX_THREADS overrides both; a value that is not a positive integer is ignored', () => {
  assert.equal(indexThreads(false, { DIB_PYPI_INDEX_THREADS: '7' }), 7);
  assert.equal(indexThreads(true, { DIB_PYPI_INDEX_THREADS: '1' }), 1);
  assert.equal(indexThreads(true, { DIB_PYPI_INDEX_THREADS: '0' }), 4);
  assert.equal(indexThreads(true, { DIB_PYPI_INDEX_THREADS: '2.5' }), 4);
  assert.equal(indexThreads(true, { DIB_PYPI_INDEX_THREADS: 'many' }), 4);
});
