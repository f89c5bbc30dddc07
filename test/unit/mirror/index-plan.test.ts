// The index run's plan (src/mirror/index/plan.ts): what to list, inspect, remove and write, decided from the scan and the manifest alone.
import assert from 'node:assert/strict';
import test from 'node:test';
import { emptyHead, emptyManifest, type FileRecord, type Manifest } from '../../../src/mirror/store/manifest.js';
import {
  filesByProject,
  goneFiles,
  orphanPages,
  pagesDigestOf,
  planInspection,
  planRootPages,
  projectPagesToWrite,
  projectsOfChangedSidecars,
  seedDirs,
  untrustedDirs,
} from '../../../src/mirror/index/plan.js';
import { emptyScan, type DirScan, type Scan } from '../../../src/mirror/index/scan-mirror.js';

const good = (project: string, extra: Partial<FileRecord> = {}): FileRecord => ({ size: 1, mtimeNs: '1', sha256: 'a', project, version: '1.0', ...extra });

function manifestWith(files: Record<string, FileRecord>, extra: Partial<Manifest> = {}): Manifest {
  return { ...emptyManifest(), files, ...extra };
}

function scanOf(files: [string, FileRecord | undefined][], dirs: DirScan[] = [], needMetadata: string[] = []): Scan {
  return { ...emptyScan(), dirs, files: new Map(files), needMetadata: new Set(needMetadata) };
}

const dirScan = (rel: string, listed: boolean, generated: string[] = []): DirScan => ({
  rel,
  listed,
  distNames: [],
  sidecarNames: [],
  generated: new Set(generated),
});

test('untrustedDirs: a full run lists everything; else a changed, untrustworthy or new mtime, or a changed .yanked', () => {
  const top = [
    { rel: '', mtime: '5' },
    { rel: 'same', mtime: '1' },
    { rel: 'changed', mtime: '2' },
    { rel: 'zero', mtime: '0' },
    { rel: 'new', mtime: '3' },
    { rel: 'yanked', mtime: '4' },
  ];
  const headDirs = { '': { mtime: '5' }, same: { mtime: '1' }, changed: { mtime: '1' }, zero: { mtime: '0' }, yanked: { mtime: '4' } };
  assert.deepEqual([...untrustedDirs(top, headDirs, false, new Set(['yanked']))].sort(), ['changed', 'new', 'yanked', 'zero']);
  assert.deepEqual([...untrustedDirs(top, headDirs, false, new Set())].sort(), ['changed', 'new', 'zero']);
  assert.equal(untrustedDirs(top, headDirs, true, new Set()).size, top.length);
  assert.equal(untrustedDirs([], headDirs, true, new Set()).size, 0);
});

test('seedDirs: every directory in a full run; else the untrusted ones and those the head knows that are gone', () => {
  const top = [
    { rel: '', mtime: '1' },
    { rel: 'a', mtime: '1' },
    { rel: 'b', mtime: '1' },
  ];
  const headDirs = { '': { mtime: '1' }, a: { mtime: '1' }, gone: { mtime: '1' } };
  assert.deepEqual(seedDirs(top, headDirs, new Set(['b']), false), ['b', 'gone']);
  assert.deepEqual(seedDirs(top, headDirs, new Set(), false), ['gone']);
  assert.deepEqual(seedDirs(top, headDirs, new Set(['b']), true), ['', 'a', 'b']);
});

test('planInspection: new, changed and metadata-less files are inspected; unchanged ones are not', () => {
  const known = good('a', { metadataSha256: 'm' });
  const manifest = manifestWith({ 'a/old.whl': known, 'a/same.whl': good('a'), 'a/lost-meta.whl': known });
  const part = scanOf(
    [
      ['a/new.whl', undefined],
      ['a/old.whl', undefined],
      ['a/same.whl', good('a')],
      ['a/lost-meta.whl', known],
    ],
    [],
    ['a/lost-meta.whl'],
  );
  const { taken, jobs } = planInspection('/m', part, manifest);
  assert.deepEqual(taken, []);
  assert.deepEqual(jobs, [
    { dir: '/m', path: 'a/new.whl', knownMetadataSha256: undefined, isNew: true },
    { dir: '/m', path: 'a/old.whl', knownMetadataSha256: 'm', isNew: false },
    { dir: '/m', path: 'a/lost-meta.whl', knownMetadataSha256: 'm', isNew: false },
  ]);
});

test('planInspection: records the caller inspected are taken for files new to the manifest only', () => {
  const given = new Map<string, FileRecord>([
    ['a/new.whl', good('a', { metadataSha256: 'm' })],
    ['a/sdist.tar.gz', good('a')],
    ['a/old.whl', good('a')],
  ]);
  const manifest = manifestWith({ 'a/old.whl': good('a') });
  const part = scanOf([
    ['a/new.whl', undefined],
    ['a/sdist.tar.gz', undefined],
    ['a/old.whl', undefined],
    ['a/other.whl', undefined],
  ]);
  const { taken, jobs } = planInspection('/m', part, manifest, given);
  assert.deepEqual(taken, [
    { path: 'a/new.whl', record: given.get('a/new.whl'), wroteMetadata: true },
    { path: 'a/sdist.tar.gz', record: given.get('a/sdist.tar.gz'), wroteMetadata: false },
  ]);
  assert.deepEqual(
    jobs.map((j) => j.path),
    ['a/old.whl', 'a/other.whl'],
  );
  assert.deepEqual(planInspection('/m', part, manifest, new Map()).jobs.length, 4, 'an empty map: nothing taken');
});

test('goneFiles: files missing from listed or vanished directories go; a trusted directory that still exists keeps them', () => {
  const manifest = manifestWith({
    'a/kept.whl': good('a', { metadataSha256: 'm' }),
    'a/gone.whl': good('a', { metadataSha256: 'm' }),
    'a/gone.tar.gz': good('a'),
    'b/gone.whl': good('b', { metadataSha256: 'm' }),
    'c/unscanned.whl': good('c', { metadataSha256: 'm' }),
    'a/broken.whl': { size: 1, mtimeNs: '1', problem: 'bad' },
  });
  const scan = scanOf([['a/kept.whl', manifest.files['a/kept.whl']]], [dirScan('a', true)]);
  const asked: string[] = [];
  const gone = goneFiles(scan, manifest, (rel) => {
    asked.push(rel);
    return rel === 'c';
  });
  assert.deepEqual(gone, { projects: ['a', 'a', 'b'], metadata: ['a/gone.whl', 'b/gone.whl'] });
  assert.deepEqual(asked.sort(), ['b', 'c'], 'only directories the scan did not list are asked about');
});

test('projectsOfChangedSidecars: added, removed and edited sidecars mark their project; the same text does not', () => {
  const before = manifestWith(
    { 'a/x.whl': good('a'), 'b/y.whl': good('b') },
    {
      sidecars: {
        'a/x.whl.yanked': { mtimeNs: '1', text: 'old' },
        'b/y.whl.upload-time': { mtimeNs: '1', text: 't' },
        'c/z.whl.yanked': { mtimeNs: '1', text: '' },
      },
    },
  );
  const next = manifestWith(
    { 'a/x.whl': good('a'), 'd/w.whl': good('d') },
    {
      sidecars: {
        'a/x.whl.yanked': { mtimeNs: '2', text: 'new' },
        'b/y.whl.upload-time': { mtimeNs: '2', text: 't' },
        'd/w.whl.upload-time': { mtimeNs: '1', text: 'now' },
        'e/orphan.whl.yanked': { mtimeNs: '1', text: '' },
      },
    },
  );
  assert.deepEqual(projectsOfChangedSidecars(before, next).sort(), ['a', 'd']);
  // Every sidecar removed: the project of one whose file is gone too comes from the old records; one of no known file marks none.
  const removed = manifestWith({ 'b/y.whl': good('b') });
  assert.deepEqual(projectsOfChangedSidecars(before, removed).sort(), ['a', 'b']);
});

test('filesByProject: good files only, grouped in record order', () => {
  const files = {
    'a/2.whl': good('a'),
    'b/1.whl': good('b'),
    'a/1.whl': good('a'),
    'x/bad.whl': { size: 1, mtimeNs: '1', problem: 'bad' },
    'x/noproject.whl': { size: 1, mtimeNs: '1' },
  };
  assert.deepEqual(
    [...filesByProject(files)],
    [
      ['a', ['a/2.whl', 'a/1.whl']],
      ['b', ['b/1.whl']],
    ],
  );
});

test('projectPagesToWrite: full, dirty, unrecorded and missing pages are written; trusted directories are not asked about', () => {
  const pages = {
    kept: { html: '1', json: '2' },
    trusted: { html: '1', json: '2' },
    missing: { html: '1', json: '2' },
    unscanned: { html: '1', json: '2' },
    unscannedGone: { html: '1', json: '2' },
    dirty: { html: '1', json: '2' },
  };
  const projects = ['dirty', 'kept', 'missing', 'new', 'trusted', 'unscanned', 'unscannedGone'];
  const scanned = new Map([
    ['kept', dirScan('kept', true, ['index.html'])],
    ['missing', dirScan('missing', true, ['index.json'])],
    ['trusted', dirScan('trusted', false)],
    ['dirty', dirScan('dirty', true, ['index.html'])],
  ]);
  const asked: string[] = [];
  const onDisk = (project: string) => {
    asked.push(project);
    return project === 'unscanned';
  };
  assert.deepEqual(projectPagesToWrite(projects, scanned, pages, new Set(['dirty']), false, onDisk), ['dirty', 'missing', 'new', 'unscannedGone']);
  assert.deepEqual(asked.sort(), ['unscanned', 'unscannedGone']);
  assert.deepEqual(
    projectPagesToWrite(projects, scanned, pages, new Set(), true, () => true),
    projects,
  );
});

test('orphanPages: page records of projects with no file left, never the root page', () => {
  const pages = { '': { html: '1', json: '2' }, a: { html: '1', json: '2' }, gone: { html: '1', json: '2' } };
  assert.deepEqual(orphanPages(pages, new Map([['a', ['a/x.whl']]])), ['gone']);
  assert.deepEqual(orphanPages({}, new Map()), []);
});

test('pagesDigestOf: changes with any project or CRC; unknown CRCs count as ?', () => {
  const a = pagesDigestOf(['a', 'b'], { a: '1 2', b: '3 4' });
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.notEqual(pagesDigestOf(['a', 'b'], { a: '1 2', b: '3 5' }), a);
  assert.notEqual(pagesDigestOf(['a'], { a: '1 2', b: '3 4' }), a);
  assert.equal(pagesDigestOf(['a', 'b'], { a: '1 2' }), pagesDigestOf(['a', 'b'], { a: '1 2', b: '?' }));
});

test('planRootPages: projects of unloaded shards from the head; the root pages hold only when nothing changed', () => {
  const head = { ...emptyHead(), projects: ['a', 'b', 'c'], rootPage: { html: 'h', json: 'j' }, pageCrcs: { a: '1 1', b: '2 2', c: '3 3' } };
  head.pagesDigest = pagesDigestOf(head.projects, head.pageCrcs);
  const base = { head, full: false, loadedProjects: ['a', 'b'], isLoaded: (p: string) => p !== 'c', isTopTrusted: true, pages: {}, pageCrcs: head.pageCrcs };
  const same = planRootPages(base);
  assert.deepEqual(same, { projects: ['a', 'b', 'c'], pageCrcs: head.pageCrcs, digest: head.pagesDigest, isWanted: false });
  assert.equal(planRootPages({ ...base, full: true }).isWanted, true);
  assert.equal(planRootPages({ ...base, isTopTrusted: false }).isWanted, true);
  assert.equal(planRootPages({ ...base, head: { ...head, rootPage: undefined } }).isWanted, true);
  const added = planRootPages({ ...base, loadedProjects: ['a', 'b', 'd'], pages: { d: { html: '4', json: '5' } } });
  assert.deepEqual(added.projects, ['a', 'b', 'c', 'd']);
  assert.equal(added.pageCrcs.d, '4 5', 'a project with no CRCs yet: its page record');
  assert.equal(added.isWanted, true);
  const rewritten = planRootPages({ ...base, pageCrcs: { ...head.pageCrcs, a: '9 9' } });
  assert.equal(rewritten.isWanted, true, 'a page changed: the digest did');
  const dropped = planRootPages({ ...base, loadedProjects: ['a'] });
  assert.deepEqual(dropped.projects, ['a', 'c'], 'a loaded project with no file left is gone');
  const unknown = planRootPages({ ...base, pageCrcs: {} });
  assert.equal(unknown.pageCrcs.a, '?');
});
