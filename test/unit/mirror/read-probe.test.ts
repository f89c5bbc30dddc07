// spread picks evenly spaced samples; isColdRead tells files just written (in the page cache) from files on the disk.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { isColdRead, PROBE_FILES, spread } from '../../../src/mirror/index/read-probe.js';

test('spread: up to PROBE_FILES items, evenly spaced, the first included, in order', () => {
  assert.deepEqual(spread([]), []);
  assert.deepEqual(spread(['a']), ['a']);
  assert.deepEqual(spread([1, 2, 3]), [1, 2, 3]);
  const hundred = Array.from({ length: 100 }, (_, i) => i);
  assert.equal(PROBE_FILES, 8);
  assert.deepEqual(spread(hundred), [0, 12, 25, 37, 50, 62, 75, 87]);
  assert.deepEqual(spread(hundred, 4), [0, 25, 50, 75]);
  assert.deepEqual(spread(Array.from({ length: 8 }, (_, i) => i)), [0, 1, 2, 3, 4, 5, 6, 7]);
});

test('isColdRead: files just written are in the page cache; none readable is not cold', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dib-pypi-read-probe-'));
  try {
    const paths = Array.from({ length: 8 }, (_, i) => join(dir, `f${i}.whl`));
    for (const path of paths) writeFileSync(path, Buffer.alloc(20_000, 7));
    isColdRead(paths); // the first calls of a process pay for loading code, not for the disk
    assert.equal(isColdRead(paths), false);
    assert.equal(isColdRead([]), false);
    assert.equal(isColdRead([join(dir, 'missing-1.whl'), join(dir, 'missing-2.whl')]), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
