// The end of an index run (src/mirror/index/plan-commit.ts): which directories to record, the next head, and whether the manifest must be written.
import assert from 'node:assert/strict';
import test from 'node:test';
import { emptyHead, emptyManifest, MANIFEST_VERSION, type FileRecord, type Manifest, type ManifestHead } from '../../../src/mirror/store/manifest.js';
import { applyRecords, mustWriteManifest, nextHead, recordJobs, sameHead, sidecarsChanged } from '../../../src/mirror/index/plan-commit.js';
import type { DirScan } from '../../../src/mirror/index/scan-mirror.js';

const good = (project: string): FileRecord => ({ size: 1, mtimeNs: '1', sha256: 'a', project, version: '1.0' });
const dirScan = (rel: string, listed: boolean, distNames: string[] = [], sidecarNames: string[] = []): DirScan => ({
  rel,
  listed,
  distNames,
  sidecarNames,
  generated: new Set(),
});

test('recordJobs: listed and touched directories, expecting what the scan saw; trusted untouched ones keep their records', () => {
  const scanned = [
    dirScan('listed', true, ['b.whl', 'a.whl'], ['a.whl.yanked']),
    dirScan('trusted', false, ['x.whl']),
    dirScan('trustedTouched', false, ['y.whl']),
  ];
  const jobs = recordJobs('/m', scanned, new Set(['trustedTouched', 'new']));
  assert.deepEqual(jobs, [
    { dir: '/m', rel: 'listed', expected: ['a.whl', 'a.whl.yanked', 'b.whl'] },
    { dir: '/m', rel: 'trustedTouched', expected: ['y.whl'] },
    { dir: '/m', rel: 'new', expected: [] },
  ]);
});

test('applyRecords: new mtimes recorded, gone directories dropped, unloaded ones kept while present', () => {
  const dirs = { same: { mtime: '1' }, changed: { mtime: '1' }, vanished: { mtime: '1' }, unloaded: { mtime: '1' }, removed: { mtime: '1' } };
  const isChanged = applyRecords(
    dirs,
    [
      { rel: 'same', mtime: '1' },
      { rel: 'changed', mtime: '2' },
      { rel: 'vanished', mtime: undefined },
      { rel: 'fresh', mtime: '0' },
    ],
    new Set(['same', 'changed', 'unloaded', 'fresh']),
    new Set(),
  );
  assert.equal(isChanged, true);
  assert.deepEqual(dirs, { same: { mtime: '1' }, changed: { mtime: '2' }, unloaded: { mtime: '1' }, fresh: { mtime: '0' } });
  const steady = { a: { mtime: '1' }, touched: { mtime: '1' } };
  assert.equal(applyRecords(steady, [{ rel: 'a', mtime: '1' }], new Set(['a']), new Set(['touched'])), false);
  assert.deepEqual(steady, { a: { mtime: '1' }, touched: { mtime: '1' } });
  const gone = { a: { mtime: '1' } };
  assert.equal(applyRecords(gone, [{ rel: 'a', mtime: undefined }], new Set(), new Set()), false, 'a gone directory alone changes no record');
});

function headInput(over: Partial<Parameters<typeof nextHead>[0]> = {}): Parameters<typeof nextHead>[0] {
  const head: ManifestHead = {
    ...emptyHead(),
    goodFiles: 10,
    strays: { loaded: ['x'], unloaded: ['y'] },
    yanked: { 'loaded/a.whl.yanked': '1', 'unloaded/b.whl.yanked': '2' },
  };
  const before: Manifest = { ...emptyManifest(), files: { 'loaded/a.whl': good('loaded'), 'loaded/bad.whl': { size: 1, mtimeNs: '1', problem: 'bad' } } };
  const next: Manifest = {
    ...emptyManifest(),
    dirs: { loaded: { mtime: '3' } },
    files: {
      'loaded/a.whl': good('loaded'),
      'loaded/b.whl': good('loaded'),
      'top.whl': good('other'),
      'shared/c.whl': good('loaded'),
      'shared/d.whl': good('loaded'),
    },
    sidecars: { 'loaded/b.whl.yanked': { mtimeNs: '5', text: '' }, 'loaded/b.whl.upload-time': { mtimeNs: '6', text: 't' } },
    pages: { '': { html: 'h', json: 'j' } },
  };
  return {
    head,
    before,
    next,
    isLoaded: (rel) => rel !== 'unloaded',
    projects: ['loaded', 'other'],
    full: false,
    pageCrcs: { loaded: '1 2' },
    pagesDigest: 'd',
    ...over,
  };
}

test('nextHead: counts, strays, .yanked mtimes and the root page as they are after the run', () => {
  const input = headInput();
  const head = nextHead(input);
  assert.deepEqual(head, {
    version: MANIFEST_VERSION,
    dirs: input.next.dirs,
    projects: ['loaded', 'other'],
    strays: { unloaded: ['y'], other: [''], loaded: ['shared'] },
    yanked: { 'unloaded/b.whl.yanked': '2', 'loaded/b.whl.yanked': '5' },
    goodFiles: 10 + 5 - 1,
    rootPage: { html: 'h', json: 'j' },
    pageCrcs: { loaded: '1 2' },
    pagesDigest: 'd',
  });
  assert.deepEqual(
    Object.keys(head),
    ['version', 'dirs', 'projects', 'strays', 'yanked', 'goodFiles', 'rootPage', 'pageCrcs', 'pagesDigest'],
    'the key order of the file',
  );
  assert.equal(nextHead({ ...input, full: true }).goodFiles, 5, 'a full run counts from zero');
  const noRoot = nextHead({ ...input, next: { ...input.next, pages: {} } });
  assert.equal('rootPage' in noRoot, false);
});

test('sameHead and sidecarsChanged: any differing record counts', () => {
  const head = nextHead(headInput());
  assert.equal(sameHead(head, structuredClone(head)), true);
  const variants: ((h: ManifestHead) => void)[] = [
    (h) => (h.version = 0),
    (h) => h.goodFiles++,
    (h) => h.projects.push('z'),
    (h) => (h.dirs = { ...h.dirs, loaded: { mtime: '9' } }),
    (h) => (h.dirs = { ...h.dirs, more: { mtime: '9' } }),
    (h) => (h.strays = { ...h.strays, loaded: ['other'] }),
    (h) => (h.yanked = { ...h.yanked, 'loaded/b.whl.yanked': '9' }),
    (h) => delete h.rootPage,
    (h) => (h.rootPage = { html: 'h', json: 'x' }),
    (h) => (h.pagesDigest = 'e'),
    (h) => delete h.pageCrcs,
    (h) => (h.pageCrcs = { loaded: '1 3' }),
  ];
  for (const [i, change] of variants.entries()) {
    const other = structuredClone(head);
    change(other);
    assert.equal(sameHead(other, head), false, `variant ${i}`);
  }
  const a = { 'x.yanked': { mtimeNs: '1', text: '' } };
  assert.equal(sidecarsChanged(a, { 'x.yanked': { mtimeNs: '1', text: '' } }), false);
  assert.equal(sidecarsChanged(a, { 'x.yanked': { mtimeNs: '2', text: '' } }), true);
  assert.equal(sidecarsChanged(a, { 'x.yanked': { mtimeNs: '1', text: 'why' } }), true);
  assert.equal(sidecarsChanged(a, {}), true);
  assert.equal(sidecarsChanged({}, a), true);
  assert.equal(sidecarsChanged(a, { 'y.yanked': { mtimeNs: '1', text: '' } }), true);
});

test('mustWriteManifest: only a run that read, wrote, removed or changed nothing leaves the manifest alone', () => {
  const input = headInput();
  const head = nextHead(input);
  const before: Manifest = { ...emptyManifest(), files: { 'a/x.whl': good('a') }, sidecars: { 'a/x.whl.yanked': { mtimeNs: '1', text: '' } } };
  const next: Manifest = { ...before, sidecars: { ...before.sidecars } };
  const quiet = { full: false, isChanged: false, inspected: 0, written: 0, removed: 0, scannedFiles: 1 };
  assert.equal(mustWriteManifest(quiet, before, next, head, structuredClone(head)), false);
  for (const change of [{ full: true }, { isChanged: true }, { inspected: 1 }, { written: 1 }, { removed: 1 }, { scannedFiles: 0 }]) {
    assert.equal(mustWriteManifest({ ...quiet, ...change }, before, next, head, head), true, JSON.stringify(change));
  }
  assert.equal(mustWriteManifest(quiet, before, { ...next, sidecars: {} }, head, head), true, 'a sidecar went');
  assert.equal(mustWriteManifest(quiet, before, next, head, { ...head, goodFiles: 0 }), true, 'the head changed');
});
