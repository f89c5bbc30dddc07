// The status page's figures from what the server already has: its metrics snapshot, its /health
// answer, the manifest's totals. Pure.
import type { StatusView, UpstreamView } from './model.js';

/** A metrics snapshot's series (`name|label="value",...` -> number), as metrics.ts keeps them. */
export type SeriesValues = Record<string, number>;

/** The sum of a family's series by the value of one label (`result` of `dib_pypi_cache_requests_total`...). */
export function sumByLabel(values: SeriesValues, family: string, label: string): Record<string, number> {
  const sums: Record<string, number> = {};
  const pattern = new RegExp(`(?:^|,)${label}="((?:[^"\\\\]|\\\\.)*)"`);
  for (const [key, value] of Object.entries(values)) {
    if (!key.startsWith(`${family}|`)) continue;
    const match = pattern.exec(key.slice(family.length + 1));
    const name = match?.[1] ?? '';
    if (name === '') continue;
    sums[name] = (sums[name] ?? 0) + value;
  }
  return sums;
}

function total(values: SeriesValues, family: string): number {
  let sum = 0;
  for (const [key, value] of Object.entries(values)) if (key.startsWith(`${family}|`)) sum += value;
  return sum;
}

export interface StatusFacts {
  version?: string;
  uptimeSeconds: number;
  processes: number;
  values: SeriesValues;
  /** The /health body: status, problems (`message`), and as a cache `offline` and `upstreams`. */
  health: Record<string, unknown>;
  isCache: boolean;
  hasUploads: boolean;
  mirror?: { projects: number; files: number; bytes: number };
  listedProjects: number;
}

function upstreamsOf(health: Record<string, unknown>): UpstreamView[] {
  const list = Array.isArray(health.upstreams) ? (health.upstreams as unknown[]) : [];
  const upstreams: UpstreamView[] = [];
  for (const item of list) {
    if (typeof item !== 'object' || item === null) continue;
    const { url, state, lastError } = item as Record<string, unknown>;
    if (typeof url !== 'string') continue;
    const upstream: UpstreamView = { url, state: typeof state === 'string' ? state : 'unknown' };
    if (typeof lastError === 'string') upstream.lastError = lastError;
    upstreams.push(upstream);
  }
  return upstreams;
}

/** The status page's view (at `/+ui/+status`). */
export function buildStatusView(facts: StatusFacts): StatusView {
  const problems = Array.isArray(facts.health.problems)
    ? (facts.health.problems as unknown[])
        .map((p) => (typeof p === 'object' && p !== null ? (p as { message?: unknown }).message : undefined))
        .filter((m) => typeof m === 'string')
    : [];
  const view: StatusView = {
    uiRoot: './',
    uptimeSeconds: facts.uptimeSeconds,
    processes: facts.processes,
    listedProjects: facts.listedProjects,
    health: { status: typeof facts.health.status === 'string' ? facts.health.status : 'unknown', problems },
    uploads: { enabled: facts.hasUploads, outcomes: sumByLabel(facts.values, 'dib_pypi_uploads_total', 'outcome') },
    requests: total(facts.values, 'dib_pypi_http_requests_total'),
  };
  if (facts.version !== undefined) view.version = facts.version;
  if (facts.mirror !== undefined) view.mirror = facts.mirror;
  if (facts.isCache) {
    view.cache = {
      offline: facts.health.offline === true,
      upstreams: upstreamsOf(facts.health),
      results: sumByLabel(facts.values, 'dib_pypi_cache_requests_total', 'result'),
    };
  }
  return view;
}
