// /health: what is wrong, if anything, and the status code a load balancer or orchestrator acts on.
// `fail` (503) when this server cannot do its job: the mirror is missing or unreadable, the disk it
// writes to is nearly full, or, as a cache, no upstream answers and nothing is kept. `degraded` (200)
// when it still serves but needs attention: an upstream is down while kept pages are served stale,
// or a read-only mirror's disk is nearly full. Disk facts are read at most once a second.
import { constants } from 'node:fs';
import { access, opendir, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { STATE_DIR } from '../mirror/store/layout.js';

export type HealthStatus = 'ok' | 'degraded' | 'fail';

export interface HealthProblem {
  check: 'mirror' | 'disk' | 'upstream';
  severity: 'fail' | 'degraded';
  message: string;
}

/** An upstream as the pull-through cache reports it (its URL without credentials). */
export interface UpstreamState {
  url: string;
  state: string;
  lastError?: string;
}

export interface ProxyState {
  offline: boolean;
  upstreams: UpstreamState[];
}

/** What the checks read from the disk. */
export interface DiskFacts {
  /** undefined: readable; otherwise why not (an errno code or a sentence). */
  mirrorProblem: string | undefined;
  /** The root page (index.html) is missing. */
  hasNoIndex: boolean;
  disk: { freeBytes: number; sizeBytes: number; freeInodes: number; inodes: number } | undefined;
  /** As a cache: some upstream page is kept (DIR/.dib-pypi/upstream/ is not empty). */
  hasKeptPages: boolean;
}

export interface HealthFacts extends DiskFacts {
  /** The server writes into DIR (pull-through cache, uploads): a full disk stops it. */
  isWriting: boolean;
  proxy: ProxyState | undefined;
}

/** Below this much free space (or 1 % of the filesystem, or 1 % of its inodes) the disk is nearly full. */
export const MIN_FREE_BYTES = 100 * 1024 * 1024;
const MIN_FREE_RATIO = 0.01;

/** The problems in `facts` and the overall status (pure). */
export function judgeHealth(facts: HealthFacts): { status: HealthStatus; problems: HealthProblem[] } {
  const problems: HealthProblem[] = [];
  if (facts.mirrorProblem !== undefined)
    problems.push({ check: 'mirror', severity: 'fail', message: `the mirror directory cannot be read: ${facts.mirrorProblem}` });
  else if (facts.hasNoIndex && facts.proxy === undefined)
    problems.push({ check: 'mirror', severity: 'fail', message: 'the mirror has no index (index.html): run dib-pypi mirror index' });
  const disk = facts.disk;
  if (disk !== undefined) {
    const severity = facts.isWriting ? 'fail' : 'degraded';
    if (disk.freeBytes < MIN_FREE_BYTES || disk.freeBytes < disk.sizeBytes * MIN_FREE_RATIO) {
      problems.push({ check: 'disk', severity, message: `the mirror's disk is nearly full: ${mib(disk.freeBytes)} MiB free of ${mib(disk.sizeBytes)} MiB` });
    } else if (disk.inodes > 0 && disk.freeInodes < disk.inodes * MIN_FREE_RATIO) {
      problems.push({ check: 'disk', severity, message: `the mirror's disk is nearly out of inodes: ${disk.freeInodes} free of ${disk.inodes}` });
    }
  }
  const proxy = facts.proxy;
  if (proxy !== undefined && !proxy.offline) {
    const failing = proxy.upstreams.filter((u) => u.state === 'down' || u.lastError !== undefined);
    const isAllDown = failing.length === proxy.upstreams.length && failing.length > 0;
    // A cache that keeps pages still serves them (stale): a health check must not take it out of service.
    const severity = isAllDown && !facts.hasKeptPages ? 'fail' : 'degraded';
    for (const u of failing) problems.push({ check: 'upstream', severity, message: `upstream ${u.url} is failing: ${u.lastError ?? 'down'}` });
  }
  const status: HealthStatus = problems.some((p) => p.severity === 'fail') ? 'fail' : problems.length > 0 ? 'degraded' : 'ok';
  return { status, problems };
}

function mib(bytes: number): number {
  return Math.floor(bytes / (1024 * 1024));
}

/** Read the disk facts of DIR (never throws). */
export async function readDiskFacts(dir: string): Promise<DiskFacts> {
  const facts: DiskFacts = { mirrorProblem: undefined, hasNoIndex: false, disk: undefined, hasKeptPages: false };
  try {
    if (!(await stat(dir)).isDirectory()) facts.mirrorProblem = 'not a directory';
    else await access(dir, constants.R_OK | constants.X_OK);
  } catch (error) {
    facts.mirrorProblem = (error as NodeJS.ErrnoException).code ?? String(error);
  }
  if (facts.mirrorProblem !== undefined) return facts;
  await access(join(dir, 'index.html'), constants.R_OK).catch(() => (facts.hasNoIndex = true));
  try {
    const fs = await statfs(dir);
    facts.disk = { freeBytes: fs.bavail * fs.bsize, sizeBytes: fs.blocks * fs.bsize, freeInodes: fs.ffree, inodes: fs.files };
  } catch {
    // no statfs here: no disk check
  }
  try {
    const kept = await opendir(join(dir, STATE_DIR, 'upstream'));
    facts.hasKeptPages = (await kept.read()) !== null;
    await kept.close();
  } catch {
    facts.hasKeptPages = false;
  }
  return facts;
}

export interface HealthOptions {
  dir: string;
  isWriting: boolean;
  proxy?: () => ProxyState;
  /** How long disk facts are reused (default 1 s). */
  maxAgeMs?: number;
}

export interface HealthAnswer {
  httpStatus: 200 | 503;
  body: Record<string, unknown>;
}

/** The /health answer, with the disk facts read at most once per maxAgeMs (concurrent checks share one read). */
export class HealthCheck {
  readonly #options: HealthOptions;
  #facts: Promise<DiskFacts> | undefined;
  #readAt = 0;

  constructor(options: HealthOptions) {
    this.#options = options;
  }

  async answer(): Promise<HealthAnswer> {
    const now = Date.now();
    if (this.#facts === undefined || now - this.#readAt >= (this.#options.maxAgeMs ?? 1000)) {
      this.#readAt = now;
      this.#facts = readDiskFacts(this.#options.dir);
    }
    const facts = await this.#facts;
    const proxy = this.#options.proxy?.();
    const { status, problems } = judgeHealth({ ...facts, isWriting: this.#options.isWriting, proxy });
    const body: Record<string, unknown> = { status, problems };
    if (facts.disk !== undefined) body.disk = { freeBytes: facts.disk.freeBytes, sizeBytes: facts.disk.sizeBytes };
    if (proxy !== undefined) Object.assign(body, proxy);
    return { httpStatus: status === 'fail' ? 503 : 200, body };
  }
}
