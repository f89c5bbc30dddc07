// What the web page's renderers take: plain values, every text in them as the package or mirror gave it (the renderers escape).

/** Where a page sits, as a relative path to the UI's root (`/+ui/`): links stay right behind a proxy that mounts the server under a path. */
export interface PageBase {
  /** Relative URL of `/+ui/` from this page: `+ui/` from `/`, `./` from `/+ui/`, `../` from `/+ui/<project>/`. */
  uiRoot: string;
}

/** One page of the project list: the matches of `query`, `names` from `offset` on. */
export interface ListView extends PageBase {
  query: string;
  /** Names of the projects shown (normalised), in the order found. */
  names: string[];
  /** How many projects match. */
  total: number;
  /** Projects in the mirror. */
  projectCount: number;
  /** 1-based page number; `pageSize` names a page. */
  page: number;
  pageSize: number;
}

export interface FileView {
  filename: string;
  /** The file's path on this server (`/<project>/<file>`, `/<file>`); none when the page points elsewhere. */
  path?: string;
  /** Relative URL of the file from the project's UI page (`/+ui/<project>/`). */
  href?: string;
  size?: number;
  sha256?: string;
  /** ISO 8601 UTC (PEP 700). */
  uploadTime?: string;
  requiresPython?: string;
  /** PEP 592: true, or the reason. */
  yanked?: true | string;
  /** The file has PEP 658 core metadata beside it. */
  hasMetadata: boolean;
}

export interface VersionView {
  version: string;
  /** Sorted by filename. */
  files: FileView[];
  /** Every file of the version is yanked: true, or the first reason given. */
  yanked?: true | string;
}

export interface ProjectView extends PageBase {
  /** The normalised name (the page's address). */
  project: string;
  /** Newest first (PEP 440). */
  versions: VersionView[];
  /** The version shown; undefined: the project has no files, or `missingVersion` was asked for. */
  selected?: VersionView;
  /** `?v=` asked for a version the project does not have. */
  missingVersion?: string;
  /** The newest version not yanked (the default), for `pip install`. */
  latest?: string;
  /** From the selected version's core metadata, when a file of it has some. */
  displayName?: string;
  summary?: string;
  description?: string;
  /** The description was longer than the page shows. */
  isDescriptionCut?: boolean;
}

export interface UpstreamView {
  url: string;
  state: string;
  lastError?: string;
}

export interface StatusView extends PageBase {
  version?: string;
  uptimeSeconds: number;
  processes: number;
  /** Undefined: the mirror has no manifest (not indexed by dib-pypi yet). */
  mirror?: { projects: number; files: number; bytes: number };
  /** Projects in the root page (the list people search). */
  listedProjects: number;
  health: { status: string; problems: string[] };
  /** Undefined: not a pull-through cache. */
  cache?: { offline: boolean; upstreams: UpstreamView[]; results: Record<string, number> };
  uploads: { enabled: boolean; outcomes: Record<string, number> };
  requests: number;
}
