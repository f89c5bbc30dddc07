// The batch committer of verified downloads: renames after fsync, in batches, each caller told its own outcome.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
