// What a sync does to one project directory: which files to download, which to check, keep or delete, and
// which sidecars (.yanked, .upload-time) to write or remove. Pure: the filtered upstream listing and what the
// mirror holds in, the plan out.
import { strongestHash, type UpstreamFile } from '../../upstream/simple-model.js';
import type { FilteredFile } from './filters.js';

/** A distribution file already in the project directory. */
export interface LocalFile {
  size: number;
  /** The sha256 the index manifest recorded for these exact size and mtime (so no need to hash it again). */
  trustedSha256?: string;
}

export interface ProjectState {
  /** Normalised project name: the directory. */
  project: string;
  /** Distribution files in `DIR/<project>/`, by name. */
  files: Map<string, LocalFile>;
  /** Sidecar files in `DIR/<project>/` (`x.whl.yanked`), by name, with their text. */
  sidecars: Map<string, string>;
}

/** A file to fetch or to check, with the hash to verify it by. */
export interface PlannedFile {
  file: UpstreamFile;
  algorithm: string;
  digest: string;
}

/** A sidecar to write (text) or remove (null). */
export interface SidecarChange {
  name: string;
  text: string | null;
}

export interface ProjectPlan {
  project: string;
  /** Not in the mirror: download. */
  downloads: PlannedFile[];
  /** In the mirror, hash not known from the manifest: hash it; same digest keeps it, another is a conflict. */
  checks: PlannedFile[];
  /** In the mirror with the right hash. */
  present: PlannedFile[];
  /** Upstream gives no sha-2 hash: cannot be verified, so not fetched. */
  unverifiable: UpstreamFile[];
  /** In the mirror, with another hash than upstream's (never overwritten). */
  conflicts: { file: UpstreamFile; reason: string }[];
  /** Distribution files no longer wanted (only with --delete), and their sidecars. */
  deletes: string[];
}

/** PEP 592 / PEP 700 as sidecars: `.yanked` holds the reason (may be empty), `.upload-time` the upload time. */
export function sidecarChanges(file: UpstreamFile, existing: ReadonlyMap<string, string>): SidecarChange[] {
  const changes: SidecarChange[] = [];
  const yanked = `${file.filename}.yanked`;
  const wantYanked = file.yanked === undefined ? null : file.yanked === true ? '' : file.yanked;
  const haveYanked = existing.get(yanked) ?? null;
  if (wantYanked !== (haveYanked === null ? null : haveYanked.trim()))
    changes.push({ name: yanked, text: wantYanked === null ? null : wantYanked === '' ? '' : `${wantYanked}\n` });
  if (file.uploadTime !== undefined) {
    const uploaded = `${file.filename}.upload-time`;
    if ((existing.get(uploaded) ?? '').trim() !== file.uploadTime) changes.push({ name: uploaded, text: `${file.uploadTime}\n` });
  }
  return changes;
}

/** Plan one project: compare the kept upstream files with the directory. */
export function planProject(state: ProjectState, kept: readonly FilteredFile[], isDelete: boolean): ProjectPlan {
  const plan: ProjectPlan = { project: state.project, downloads: [], checks: [], present: [], unverifiable: [], conflicts: [], deletes: [] };
  const wanted = new Set<string>();
  for (const { file } of kept) {
    wanted.add(file.filename);
    const hash = strongestHash(file.hashes);
    if (hash === undefined) {
      plan.unverifiable.push(file);
      continue;
    }
    const planned: PlannedFile = { file, algorithm: hash.algorithm, digest: hash.digest };
    const local = state.files.get(file.filename);
    if (local === undefined) plan.downloads.push(planned);
    else if (file.size !== undefined && local.size !== file.size)
      plan.conflicts.push({ file, reason: `in the mirror with ${local.size} bytes, upstream has ${file.size}` });
    else if (hash.algorithm === 'sha256' && local.trustedSha256 !== undefined) {
      if (local.trustedSha256 === hash.digest) plan.present.push(planned);
      else plan.conflicts.push({ file, reason: `in the mirror with sha256 ${local.trustedSha256}, upstream has ${hash.digest}` });
    } else plan.checks.push(planned);
  }
  if (isDelete) {
    for (const name of [...state.files.keys()].sort()) if (!wanted.has(name)) plan.deletes.push(name);
  }
  return plan;
}
