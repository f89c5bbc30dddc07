// The batch committer of verified downloads: journaled, then renamed, in batches, each caller told its own outcome.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CommitQueue } from '../../src/mirror/commit-queue.js';
import { Semaphore } from '../../src/mirror/semaphore.js';
import { journalPath, pendingEntries, SyncJournal } from '../../src/mirror/sync-journal.js';

function mirrorDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dib-pypi-commit-'));
  mkdirSync(join(dir, '.dib-pypi'));
  mkdirSync(join(dir, 'p'));
  return dir;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

test('commits in batches (size or delay), journals each file before its rename, reports a missing temp to its caller only, keeps going', async () => {
  const dir = mirrorDir();
  try {
    const journal = new SyncJournal(dir);
    const queue = new CommitQueue(journal, 3, 20);
    const commit = (n: number, isMissing = false) => {
      const temp = join(dir, 'p', `.f${n}.part`);
      if (!isMissing) writeFileSync(temp, `file ${n}`);
      return queue.commit({ temp, target: join(dir, 'p', `f${n}`), path: `p/f${n}`, algorithm: 'sha256', digest: sha256(`file ${n}`) });
    };
    await Promise.all([0, 1, 2].map((n) => commit(n))); // a full batch goes at once
    const journaled = readFileSync(journalPath(dir), 'utf8');
    assert.deepEqual(pendingEntries(journaled).map((e) => e.path), ['p/f0', 'p/f1', 'p/f2']);
    assert.match(journaled, new RegExp(`^sha256 ${sha256('file 0')} p/f0$`, 'm'));
    const missing = commit(9, true);
    const later = commit(3); // goes after the delay
    await assert.rejects(missing, /ENOENT/);
    await later;
    for (const n of [0, 1, 2, 3]) {
      assert.equal(readFileSync(join(dir, 'p', `f${n}`), 'utf8'), `file ${n}`);
      assert.equal(existsSync(join(dir, 'p', `.f${n}.part`)), false);
    }
    assert.equal(existsSync(join(dir, 'p', 'f9')), false);
    await journal.finish(); // one syncfs, then the journal goes: the run is durable
    assert.equal(existsSync(journalPath(dir)), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a checkpoint while files keep coming: a synced line covers what was renamed before it, not what came after', async () => {
  const dir = mirrorDir();
  try {
    const journal = new SyncJournal(dir);
    const queue = new CommitQueue(journal, 1, 5, 0); // a checkpoint after every batch
    const commit = (n: number) => {
      writeFileSync(join(dir, 'p', `.f${n}.part`), `file ${n}`);
      return queue.commit({ temp: join(dir, 'p', `.f${n}.part`), target: join(dir, 'p', `f${n}`), path: `p/f${n}`, algorithm: 'sha256', digest: sha256(`file ${n}`) });
    };
    await commit(0);
    while (!readFileSync(journalPath(dir), 'utf8').includes('synced')) await new Promise((r) => setTimeout(r, 10));
    await commit(1);
    const text = readFileSync(journalPath(dir), 'utf8');
    assert.match(text, /^synced \d+$/m);
    const pending = pendingEntries(text).map((e) => e.path);
    assert.ok(!pending.includes('p/f0'), text);
    assert.ok(pending.includes('p/f1'), text);
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
