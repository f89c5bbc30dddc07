// Which files configure writes into a root, with their content. Pure.
import type { Plan } from '../plan/types.js';
import { renderPipConf, renderPydistutilsCfg } from './render-pip-conf.js';
import { targetPathsFor, type TargetPath } from './target-paths.js';

export { normalizeHome } from './target-paths.js';

export interface TargetFile extends Omit<TargetPath, 'kind'> {
  content: string;
}

/** The files of targetPathsFor (target-paths.ts: which, and why) with the plan's content. */
export function planTargetFiles(plan: Plan, home: string): TargetFile[] {
  const content = { pip: renderPipConf(plan), distutils: renderPydistutilsCfg(plan) };
  return targetPathsFor(home).map(({ kind, ...target }) => ({ ...target, content: content[kind] }));
}
