// `mirror verify`: re-hash every file against the manifest, and every page against what the manifest says it must be.
import { existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { UsageError } from '../../errors.js';
import { sha256File } from '../../fs/hash-file.js';
import { buildProjectPage } from '../index/build-pages.js';
import { loadHead, loadManifest, manifestPath, type Manifest } from '../store/manifest.js';
import { STATE_DIR } from '../store/layout.js';
import { pendingRemovalPaths } from '../store/remove-files.js';
import { mapLimit } from '../../async/map-limit.js';
import { renderProjectHtml, renderProjectJson, renderRootHtml, renderRootJson } from '../../pypi/render-pages.js';
import { scanMirror } from '../index/scan-mirror.js';
import { appendAll } from '../../append-all.js';

export type FindingKind = 'corrupted' | 'missing' | 'unindexed' | 'stale-page' | 'broken';

export interface Finding {
  kind: FindingKind;
  /** Relative to the mirror. */
  path: string;
  detail: string;
}

/** Where a verify run is: hashing files (bytes known from the index), listing the mirror, comparing pages (per project). */
export interface VerifyProgress {
  phase: 'hash' | 'list' | 'pages';
  done: number;
  total: number;
  /** hash: bytes of the files done so far (missing ones count as done), out of `totalBytes`, the sizes the index records. */
  bytes?: number;
  totalBytes?: number;
}

export interface VerifyOptions {
  dir: string;
  onProgress?: (progress: VerifyProgress) => void;
}

export interface VerifyResult {
  files: number;
  bytes: number;
  findings: Finding[];
}

export const QUARANTINE_DIR = posix.join(STATE_DIR, 'quarantine');

function requireManifest(dir: string): Manifest {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`not a directory: ${JSON.stringify(dir)}`, 'mirror verify');
  if (!existsSync(manifestPath(dir)))
    throw new UsageError(`${dir} has no index yet (no ${manifestPath(dir)}); run dib-pypi mirror index first`, 'mirror verify');
  const { manifest, note } = loadManifest(dir);
  if (note !== undefined) throw new UsageError(`${note.replace('; indexing everything', '')}; run dib-pypi mirror index --full`, 'mirror verify');
  return manifest;
}

function readOrUndefined(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

/** Every distribution file and `.metadata` file re-hashed; every page compared with what the manifest renders. */
export async function verifyMirror(options: VerifyOptions): Promise<VerifyResult> {
  const { dir } = options;
  const manifest = requireManifest(dir);
  const findings: Finding[] = [];
  const entries = Object.entries(manifest.files);
  let done = 0;
  let bytes = 0;
  let bytesDone = 0;
  const totalBytes = entries.reduce((sum, [, record]) => sum + (record.problem === undefined ? record.size : 0), 0);
  const report = options.onProgress;
  report?.({ phase: 'hash', done: 0, total: entries.length, bytes: 0, totalBytes });
  // A removal under way or killed takes these out (the next change or index finishes it): not missing, not unindexed.
  const removing = pendingRemovalPaths(dir);
  await mapLimit(entries, 8, async ([path, record]) => {
    const full = join(dir, path);
    if (!existsSync(full)) {
      if (!removing.has(path) && !removing.has(path.split('/')[0] as string)) findings.push({ kind: 'missing', path, detail: 'indexed but not in the mirror' });
    } else if (record.problem !== undefined) {
      findings.push({ kind: 'broken', path, detail: record.problem });
    } else {
      const { sha256, size } = await sha256File(full);
      bytes += size;
      if (sha256 !== record.sha256)
        findings.push({ kind: 'corrupted', path, detail: `sha256 ${sha256}, indexed ${record.sha256} (${size} bytes, indexed ${record.size})` });
      const metadataSha = record.metadataSha256;
      if (metadataSha !== undefined) {
        const metaPath = `${path}.metadata`;
        if (!existsSync(join(dir, metaPath))) findings.push({ kind: 'stale-page', path: metaPath, detail: 'PEP 658 metadata file missing' });
        else {
          const meta = await sha256File(join(dir, metaPath));
          if (meta.sha256 !== metadataSha) findings.push({ kind: 'stale-page', path: metaPath, detail: `sha256 ${meta.sha256}, advertised ${metadataSha}` });
        }
      }
    }
    if (record.problem === undefined) bytesDone += record.size;
    report?.({ phase: 'hash', done: ++done, total: entries.length, bytes: bytesDone, totalBytes });
  });
  // Files on disk the index does not know (full listing, trusting nothing).
  report?.({ phase: 'list', done: 0, total: 0 });
  const scan = await scanMirror(dir, manifest, true, false, removing);
  for (const path of scan.files.keys()) {
    if (manifest.files[path] === undefined) findings.push({ kind: 'unindexed', path, detail: 'in the mirror but not in the index' });
  }
  appendAll(findings, stalePages(dir, manifest, report, removing));
  findings.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.kind < b.kind ? -1 : 1));
  return { files: entries.length, bytes, findings };
}

function stalePages(dir: string, manifest: Manifest, report?: (progress: VerifyProgress) => void, removing = new Set<string>()): Finding[] {
  const findings: Finding[] = [];
  const byProject = new Map<string, string[]>();
  for (const [path, record] of Object.entries(manifest.files)) {
    if (record.problem !== undefined || record.project === undefined) continue;
    byProject.set(record.project, [...(byProject.get(record.project) ?? []), path]);
  }
  const check = (rel: string, expected: string) => {
    const actual = readOrUndefined(join(dir, rel));
    if (actual === undefined) findings.push({ kind: 'stale-page', path: rel, detail: 'index page missing' });
    else if (actual !== expected) findings.push({ kind: 'stale-page', path: rel, detail: 'index page differs from what the index records' });
  };
  const projects = [...byProject.keys()].sort();
  let done = 0;
  report?.({ phase: 'pages', done, total: projects.length });
  for (const project of projects) {
    if (removing.has(project)) continue; // its whole directory is being removed
    const page = buildProjectPage(project, byProject.get(project) as string[], manifest.files, manifest.sidecars);
    check(`${project}/index.html`, renderProjectHtml(page));
    check(`${project}/index.json`, renderProjectJson(page));
    report?.({ phase: 'pages', done: ++done, total: projects.length });
  }
  check('index.html', renderRootHtml(projects));
  check('index.json', renderRootJson(projects, loadHead(dir).head?.pagesDigest));
  return findings;
}

/** --repair: corrupted files go to quarantine (never blessed with a new hash); then a full re-index. */
export function quarantine(dir: string, findings: readonly Finding[]): string[] {
  const moved: string[] = [];
  for (const finding of findings) {
    if (finding.kind !== 'corrupted') continue;
    const target = join(dir, QUARANTINE_DIR, finding.path.replaceAll('/', '__'));
    mkdirSync(join(dir, QUARANTINE_DIR), { recursive: true });
    renameSync(join(dir, finding.path), target);
    moved.push(posix.join(QUARANTINE_DIR, finding.path.replaceAll('/', '__')));
  }
  return moved;
}
