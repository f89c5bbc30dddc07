// The pull-through cache's admin actions of the JSON API: `POST /+api/cache` (its figures) and
// `POST /+api/invalidate {"project": ...}` (make a kept upstream page stale: fetched again on its next request).
import { isValidProjectName, normalizeProjectName } from '../pypi/project-name.js';
import type { CacheStats } from './cache-eviction.js';

export interface CacheAdmin {
  /** False when no upstream page of `project` is kept. */
  invalidate(project: string): boolean;
  stats(): CacheStats;
}

export type CacheAction = 'cache' | 'invalidate';

export type CacheAnswer = { ok: true; value: unknown } | { ok: false; status: number; message: string };

/** `mayChange`: whether the user may invalidate that project's page (with --acl, those who may change the project). */
export function runCacheAction(
  cache: CacheAdmin | undefined,
  action: CacheAction,
  fields: Record<string, string>,
  mayChange: (project: string) => { allowed: true } | { allowed: false; reason: string },
): CacheAnswer {
  if (cache === undefined) return { ok: false, status: 404, message: 'this server is not a pull-through cache (no --upstream)' };
  if (action === 'cache') return { ok: true, value: cache.stats() };
  const name = fields.project ?? '';
  if (!isValidProjectName(name)) return { ok: false, status: 400, message: `not a project name: ${JSON.stringify(name.slice(0, 100))}` };
  const project = normalizeProjectName(name);
  const decision = mayChange(project);
  if (!decision.allowed) return { ok: false, status: 403, message: decision.reason };
  if (!cache.invalidate(project)) return { ok: false, status: 404, message: `no kept upstream page of ${project}` };
  return { ok: true, value: { project, invalidated: true } };
}
