// Receipts of the files the pull-through cache downloaded: only a file still the one the cache stored is evicted.
import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { evictCachedFile, forgetCachedFile, readReceipts, touchReceipt, writeReceipt } from '../../../src/mirror/store/cache-receipts.js';

const WHEEL = 'demo-1.0-py3-none-any.whl';

function mirror(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dib-pypi-receipts-'));
  mkdirSync(join(dir, 'demo'));
  writeFileSync(join(dir, 'demo', WHEEL), 'wheel bytes');
  for (const sidecar of ['.upload-time', '.yanked', '.metadata']) writeFileSync(join(dir, 'demo', `${WHEEL}${sidecar}`), 'x');
  mkdirSync(join(dir, '.dib-pypi', 'upstream', 'demo'), { recursive: true });
  writeFileSync(join(dir, '.dib-pypi', 'upstream', 'demo', `${WHEEL}.metadata`), 'kept');
  return dir;
}

test('a receipt counts the file; eviction removes the file, its sidecars, both .metadata and the receipt', () => {
  const dir = mirror();
  try {
    assert.equal(writeReceipt(dir, 'demo', 'missing-1.0.tar.gz'), undefined);
    const receipt = writeReceipt(dir, 'demo', WHEEL);
    assert.equal(receipt?.bytes, 11);
    const used = new Date(Date.UTC(2030, 0, 1));
    touchReceipt(dir, 'demo', WHEEL, used);
    touchReceipt(dir, 'demo', 'gone-1.0.tar.gz', used); // no receipt: nothing happens
    assert.deepEqual(readReceipts(dir), [{ project: 'demo', filename: WHEEL, bytes: 11, lastUsed: used.getTime() }]);
    assert.equal(evictCachedFile(dir, 'demo', WHEEL), true);
    for (const suffix of ['', '.upload-time', '.yanked', '.metadata']) assert.ok(!existsSync(join(dir, 'demo', `${WHEEL}${suffix}`)), suffix);
    assert.ok(!existsSync(join(dir, '.dib-pypi', 'upstream', 'demo', `${WHEEL}.metadata`)));
    assert.deepEqual(readReceipts(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file replaced since (an upload or a sync: another inode, size or mtime) is never evicted, and its receipt is dropped', () => {
  for (const replace of [
    (path: string, _round: number) => {
      // The old file stays linked, so that the new one cannot get its inode number back.
      linkSync(path, `${path}.old-${Math.random()}`);
      writeFileSync(`${path}.new`, 'wheel bytes');
      renameSync(`${path}.new`, path);
    },
    (path: string, round: number) => writeFileSync(path, 'x'.repeat(20 + round)),
    (path: string, round: number) => utimesSync(path, new Date(round * 1000), new Date(round * 1000)),
  ]) {
    const dir = mirror();
    try {
      writeReceipt(dir, 'demo', WHEEL);
      replace(join(dir, 'demo', WHEEL), 1);
      assert.equal(evictCachedFile(dir, 'demo', WHEEL), false);
      assert.ok(existsSync(join(dir, 'demo', WHEEL)));
      assert.ok(existsSync(join(dir, 'demo', `${WHEEL}.upload-time`)));
      writeReceipt(dir, 'demo', WHEEL);
      replace(join(dir, 'demo', WHEEL), 2);
      assert.deepEqual(readReceipts(dir), [], 'not counted after a restart either');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('a file the store replaces on purpose (an upload with --allow-overwrite) is forgotten as cache before it is replaced', () => {
  const dir = mirror();
  try {
    writeReceipt(dir, 'demo', WHEEL);
    forgetCachedFile(dir, 'demo', WHEEL);
    forgetCachedFile(dir, 'demo', WHEEL);
    assert.deepEqual(readReceipts(dir), []);
    assert.equal(evictCachedFile(dir, 'demo', WHEEL), false);
    assert.ok(existsSync(join(dir, 'demo', WHEEL)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('receipts that are not distribution names, unreadable or forged are not counted', () => {
  const dir = mirror();
  try {
    const fetched = join(dir, '.dib-pypi', 'upstream', 'demo', 'fetched');
    mkdirSync(fetched, { recursive: true });
    writeFileSync(join(fetched, 'index.html'), '{}');
    writeFileSync(join(fetched, WHEEL), 'not json');
    assert.deepEqual(readReceipts(dir), []);
    assert.ok(!existsSync(join(fetched, WHEEL)), 'a broken receipt is dropped');
    assert.equal(evictCachedFile(dir, 'demo', WHEEL), false, 'no receipt: not the cache file');
    assert.ok(existsSync(join(dir, 'demo', WHEEL)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a symlinked project directory or state directory is never followed: eviction deletes nothing outside the mirror', () => {
  for (const link of ['project', 'state'] as const) {
    const dir = mirror();
    const outside = mkdtempSync(join(tmpdir(), 'dib-pypi-receipts-outside-'));
    try {
      writeReceipt(dir, 'demo', WHEEL);
      // Move the real directory out and link it back in: the receipt still matches the file.
      const real = link === 'project' ? join(dir, 'demo') : join(dir, '.dib-pypi', 'upstream', 'demo');
      const moved = join(outside, 'moved');
      renameSync(real, moved);
      symlinkSync(moved, real);
      const victim = link === 'project' ? join(moved, WHEEL) : join(dir, 'demo', WHEEL);
      assert.deepEqual(readReceipts(dir, { prune: false }), [], link);
      assert.equal(evictCachedFile(dir, 'demo', WHEEL), false, link);
      assert.ok(existsSync(victim), `${link}: the file is still there`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(outside, { recursive: true, force: true });
    }
  }
});
