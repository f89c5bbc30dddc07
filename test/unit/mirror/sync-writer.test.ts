// The sync's writer: verified downloads written on a thread, inspected, journaled in batches, then renamed
// into place; each caller told its own outcome.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Semaphore } from '../../../src/async/semaphore.js';
import { journalPath, pendingEntries, SyncJournal } from '../../../src/mirror/sync/journal.js';
import { SyncWriter } from '../../../src/mirror/sync/writer.js';
import { makeWheel } from '../../helpers/make-dist.js';

function mirrorDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dib-pypi-writer-'));
  mkdirSync(join(dir, '.dib-pypi'));
  mkdirSync(join(dir, 'p'));
  return dir;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hidden = (dir: string) => readdirSync(join(dir, 'p')).filter((n) => n.startsWith('.'));

test('writes and renames in batches, journals each file before its rename, inspects wheels (record and .metadata), reports a failure to its caller only', async () => {
  const dir = mirrorDir();
  try {
    const journal = new SyncJournal(dir);
    const writer = new SyncWriter(dir, journal, { batch: 3, delayMs: 20 });
    const place = (n: number) =>
      writer.place({
        path: `p/f${n}.txt`,
        target: join(dir, 'p', `f${n}.txt`),
        algorithm: 'sha256',
        digest: sha256(`file ${n}`),
        data: Buffer.from(`file ${n}`),
        isInspected: false,
      });
    await Promise.all([0, 1, 2].map(place)); // a full batch goes at once
    const journaled = readFileSync(journalPath(dir), 'utf8');
    assert.deepEqual(
      pendingEntries(journaled).map((e) => e.path),
      ['p/f0.txt', 'p/f1.txt', 'p/f2.txt'],
    );
    assert.match(journaled, new RegExp(`^sha256 ${sha256('file 0')} p/f0.txt$`, 'm'));

    const wheel = readFileSync(await makeWheel(join(dir, 'src'), { name: 'Demo.Pkg', version: '1.0', requiresPython: '>=3.8' }));
    const wheelName = 'demo_pkg-1.0-py3-none-any.whl';
    const inspected = writer.place({
      path: `p/${wheelName}`,
      target: join(dir, 'p', wheelName),
      algorithm: 'sha256',
      digest: sha256(wheel),
      data: wheel,
      isInspected: true,
    });
    // A file written already (a big download, a sidecar): only renamed.
    writeFileSync(join(dir, 'p', '.big.part-x'), 'big');
    const big = writer.place({
      path: 'p/big.txt',
      target: join(dir, 'p', 'big.txt'),
      algorithm: 'sha256',
      digest: sha256('big'),
      temp: join(dir, 'p', '.big.part-x'),
      isInspected: false,
    });
    const nowhere = writer.place({
      path: 'q/f9.txt',
      target: join(dir, 'q', 'f9.txt'),
      algorithm: 'sha256',
      digest: sha256('x'),
      data: Buffer.from('x'),
      isInspected: false,
    });
    await assert.rejects(nowhere, /cannot write .*q\/f9\.txt: ENOENT/);
    const record = await inspected;
    assert.equal(await big, undefined);
    assert.ok(record !== undefined);
    assert.equal(record.sha256, sha256(wheel));
    assert.equal(record.size, wheel.length);
    assert.equal(record.project, 'demo-pkg');
    assert.equal(record.requiresPython, '>=3.8');
    assert.equal(sha256(readFileSync(join(dir, 'p', `${wheelName}.metadata`))), record.metadataSha256);
    assert.deepEqual(readFileSync(join(dir, 'p', wheelName)), wheel);
    assert.equal(readFileSync(join(dir, 'p', 'big.txt'), 'utf8'), 'big');
    for (const n of [0, 1, 2]) assert.equal(readFileSync(join(dir, 'p', `f${n}.txt`), 'utf8'), `file ${n}`);
    assert.deepEqual(hidden(dir), []);
    await writer.finish();
    await journal.finish(); // one syncfs, then the journal goes: the run is durable
    assert.equal(existsSync(journalPath(dir)), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a broken wheel is placed (the re-index reports it) but gives no record', async () => {
  const dir = mirrorDir();
  try {
    const journal = new SyncJournal(dir);
    const writer = new SyncWriter(dir, journal);
    const bytes = Buffer.from('not a zip');
    const record = await writer.place({
      path: 'p/x-1.0-py3-none-any.whl',
      target: join(dir, 'p', 'x-1.0-py3-none-any.whl'),
      algorithm: 'sha256',
      digest: sha256(bytes),
      data: bytes,
      isInspected: true,
    });
    assert.equal(record, undefined);
    assert.equal(readFileSync(join(dir, 'p', 'x-1.0-py3-none-any.whl'), 'utf8'), 'not a zip');
    await writer.finish();
    await journal.finish();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('room() holds downloads back while too many bytes wait for the thread', async () => {
  const dir = mirrorDir();
  try {
    const journal = new SyncJournal(dir);
    const writer = new SyncWriter(dir, journal, { maxHeldBytes: 8, batch: 100, delayMs: 50 });
    await writer.room(); // nothing held
    const placed = writer.place({
      path: 'p/a.txt',
      target: join(dir, 'p', 'a.txt'),
      algorithm: 'sha256',
      digest: sha256('0123456789'),
      data: Buffer.from('0123456789'),
      isInspected: false,
    });
    let isRoom = false;
    const room = writer.room().then(() => (isRoom = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(isRoom, false);
    await room; // once the thread has written them
    await placed;
    await writer.finish();
    await journal.finish();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('close() before the files are in place: each caller is told, nothing appears under a final name', async () => {
  const dir = mirrorDir();
  try {
    const journal = new SyncJournal(dir);
    const writer = new SyncWriter(dir, journal, { batch: 1000, delayMs: 10_000 });
    const placed = [0, 1, 2].map((n) =>
      writer.place({
        path: `p/f${n}.txt`,
        target: join(dir, 'p', `f${n}.txt`),
        algorithm: 'sha256',
        digest: sha256('x'),
        data: Buffer.from('x'),
        isInspected: false,
      }),
    );
    await writer.close();
    for (const p of placed) await assert.rejects(p, /stopped before this file was in place/);
    await assert.rejects(
      writer.place({
        path: 'p/late.txt',
        target: join(dir, 'p', 'late.txt'),
        algorithm: 'sha256',
        digest: sha256('x'),
        data: Buffer.from('x'),
        isInspected: false,
      }),
      /stopped/,
    );
    assert.deepEqual(readdirSync(join(dir, 'p')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a checkpoint while files keep coming: a synced line covers what was renamed before it, not what came after', async () => {
  const dir = mirrorDir();
  try {
    const journal = new SyncJournal(dir);
    const writer = new SyncWriter(dir, journal, { batch: 1, checkpointMs: 0 }); // a checkpoint after every batch
    const place = (n: number) =>
      writer.place({
        path: `p/f${n}`,
        target: join(dir, 'p', `f${n}`),
        algorithm: 'sha256',
        digest: sha256(`file ${n}`),
        data: Buffer.from(`file ${n}`),
        isInspected: false,
      });
    await place(0);
    while (!readFileSync(journalPath(dir), 'utf8').includes('synced')) await new Promise((r) => setTimeout(r, 10));
    await place(1);
    const text = readFileSync(journalPath(dir), 'utf8');
    assert.match(text, /^synced \d+$/m);
    const pending = pendingEntries(text).map((e) => e.path);
    assert.ok(!pending.includes('p/f0'), text);
    assert.ok(pending.includes('p/f1'), text);
    await writer.finish();
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
