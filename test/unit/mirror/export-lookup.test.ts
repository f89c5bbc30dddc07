// What mirror export reads from the source: only the manifest records of the locked hashes (loadFilesWithHashes), and each file's sha256 (sha256FileSync).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { sha256File, sha256FileSync } from '../../../src/fs/hash-file.js';
import {
  emptyHead,
  type FileRecord,
  loadFilesWithHashes,
  loadManifest,
  type Manifest,
  manifestPath,
  SHARD_COUNT,
  serializeManifest,
  serializeShards,
  shardOf,
  writeManifest,
} from '../../../src/mirror/store/manifest.js';

const work = mkdtempSync(join(tmpdir(), 'dib-pypi-export-lookup-'));
after(() => rmSync(work, { recursive: true, force: true }));

const h = (c: string) => c.repeat(64);
const rec = (sha256: string | undefined, project: string, extra: Partial<FileRecord> = {}): FileRecord => ({
  size: 1,
  mtimeNs: '1',
  ...(sha256 === undefined ? {} : { sha256 }),
  project,
  version: '1.0',
  ...extra,
});

/** A mirror's manifest (head and every shard) holding `files`, written as the index writes it. */
async function writeMirror(dir: string, files: Record<string, FileRecord>): Promise<void> {
  const manifest: Manifest = { version: emptyHead().version, dirs: {}, files, sidecars: {}, pages: {} };
  const ids = Array.from({ length: SHARD_COUNT }, (_, id) => id);
  await writeManifest(serializeManifest(dir, emptyHead(), serializeShards(dir, manifest, ids)));
}

const FILES: Record<string, FileRecord> = {
  'alpha/alpha-1.0-py3-none-any.whl': rec(h('a'), 'alpha'),
  'beta/beta-1.0-py3-none-any.whl': rec(h('b'), 'beta'),
  'beta/beta-1.0.tar.gz': rec(h('b'), 'beta'),
  'gamma-1.0-py3-none-any.whl': rec(h('c'), 'gamma'),
  'delta/delta-1.0.tar.gz': rec(undefined, 'delta', { problem: 'truncated' }),
};

test('only the records whose sha256 is asked for, from whichever shard holds them, equal to the whole manifest’s', async () => {
  const dir = join(work, 'mirror');
  await writeMirror(dir, FILES);
  // The files are spread over more than one shard: the lookup reads them all, not only the first.
  assert.ok(new Set(Object.keys(FILES).map((p) => shardOf(p.includes('/') ? p.slice(0, p.indexOf('/')) : ''))).size > 1);
  const { files, note } = loadFilesWithHashes(dir, new Set([h('b'), h('c'), h('e')]));
  assert.equal(note, undefined);
  const whole = loadManifest(dir).manifest.files;
  assert.deepEqual(files, {
    'beta/beta-1.0-py3-none-any.whl': whole['beta/beta-1.0-py3-none-any.whl'],
    'beta/beta-1.0.tar.gz': whole['beta/beta-1.0.tar.gz'],
    'gamma-1.0-py3-none-any.whl': whole['gamma-1.0-py3-none-any.whl'],
  });
  assert.deepEqual(loadFilesWithHashes(dir, new Set()).files, {});
});

test('an unreadable shard or head is a note, as loadManifest gives it, and no records', async () => {
  const dir = join(work, 'damaged');
  await writeMirror(dir, FILES);
  const shard = join(dir, '.dib-pypi', 'manifest.d', `${String(shardOf('beta')).padStart(2, '0')}.json`);
  writeFileSync(shard, '{"files": ');
  const damaged = loadFilesWithHashes(dir, new Set([h('a')]));
  assert.deepEqual(damaged.files, {});
  assert.equal(damaged.note, loadManifest(dir).note);
  assert.match(damaged.note ?? '', /manifest\.d\/\d\d\.json: unreadable/);
  writeFileSync(manifestPath(dir), '{"version": 1, "dirs": {}, "projects": []}');
  const old = loadFilesWithHashes(dir, new Set([h('a')]));
  assert.deepEqual(old.files, {});
  assert.equal(old.note, loadManifest(dir).note);
  assert.match(old.note ?? '', /another manifest version/);
});

test('sha256FileSync: the same digest and size as the streamed sha256File, for empty, small and multi-chunk files', async () => {
  for (const [name, size] of [
    ['empty', 0],
    ['small', 1000],
    ['exactly one chunk', 1 << 20],
    ['several chunks', (5 << 20) + 3],
  ] as const) {
    const bytes = Buffer.alloc(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * 7 + (i >> 11)) & 0xff;
    const path = join(work, `hash-${size}`);
    writeFileSync(path, bytes);
    const expected = { sha256: createHash('sha256').update(bytes).digest('hex'), size };
    assert.deepEqual(sha256FileSync(path), expected, name);
    assert.deepEqual(await sha256File(path), expected, name);
  }
  assert.throws(() => sha256FileSync(join(work, 'no-such-file')), { code: 'ENOENT' });
});
