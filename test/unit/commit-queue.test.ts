// The batch committer of verified downloads: renames after fsync, in batches, each caller told its own outcome.
import assert from 'node:assert/strict';
import { existsSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CommitQueue } from '../../src/mirror/commit-queue.js';
import { Semaphore } from '../../src/mirror/semaphore.js';

test('commits in batches (size or delay), reports a missing temp to its caller only, keeps going after a failure', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dib-pypi-commit-'));
  try {
    const queue = new CommitQueue(3, 20);
    const temp = (n: number) => {
      writeFileSync(join(dir, `.f${n}.part`), `file ${n}`);
      return join(dir, `.f${n}.part`);
    };
    const first = [0, 1, 2].map((n) => queue.commit(temp(n), join(dir, `f${n}`)));
    await Promise.all(first); // a full batch goes at once
    const missing = queue.commit(join(dir, '.nope.part'), join(dir, 'nope'));
    const later = queue.commit(temp(3), join(dir, 'f3')); // goes after the delay
    await assert.rejects(missing, /ENOENT/);
    await later;
    for (const n of [0, 1, 2, 3]) {
      assert.equal(readFileSync(join(dir, `f${n}`), 'utf8'), `file ${n}`);
      assert.equal(existsSync(join(dir, `.f${n}.part`)), false);
    }
    assert.equal(existsSync(join(dir, 'nope')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a temp handed over with its open descriptor: committed, and the descriptor closed by the queue', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dib-pypi-commit-'));
  try {
    const queue = new CommitQueue(2, 20);
    const fds = [0, 1, 2].map((n) => {
      const fd = openSync(join(dir, `.f${n}.part`), 'wx');
      writeSync(fd, `file ${n}`);
      return fd;
    });
    await Promise.all(fds.map((fd, n) => queue.commit(join(dir, `.f${n}.part`), join(dir, `f${n}`), fd)));
    for (const [n, fd] of fds.entries()) {
      assert.equal(readFileSync(join(dir, `f${n}`), 'utf8'), `file ${n}`);
      assert.equal(existsSync(join(dir, `.f${n}.part`)), false);
      assert.throws(() => fstatSync(fd), /EBADF/, 'closed by the queue');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a handed-over descriptor whose temp vanished before the rename: rejected, descriptor closed, nothing under the final name', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dib-pypi-commit-'));
  try {
    const queue = new CommitQueue(1, 20);
    const fd = openSync(join(dir, '.g.part'), 'wx');
    rmSync(join(dir, '.g.part'));
    await assert.rejects(queue.commit(join(dir, '.g.part'), join(dir, 'g'), fd), /ENOENT/);
    assert.throws(() => fstatSync(fd), /EBADF/);
    assert.equal(existsSync(join(dir, 'g')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('semaphore: never more than N at once, all run', async () => {
  const slots = new Semaphore(2);
  let running = 0;
  let peak = 0;
  const results = await Promise.all(
    Array.from({ length: 7 }, (_, i) =>
      slots.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        return i;
      }),
    ),
  );
  assert.equal(peak, 2);
  assert.deepEqual(results, [0, 1, 2, 3, 4, 5, 6]);
});
