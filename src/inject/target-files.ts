// Which files configure writes into a root, with their content. Pure.
import type { Plan } from '../plan/types.js';
import { renderPipConf, renderPydistutilsCfg } from './render-pip-conf.js';
import { LOCK_PATH, targetPathsFor, type TargetPath } from './target-paths.js';

export { normalizeHome } from './target-paths.js';

export interface TargetFile extends Omit<TargetPath, 'kind'> {
  content: string;
}

/**
 * The files of targetPathsFor (target-paths.ts: which, and why) with the plan's content; with a
 * lock (its text), the lock at LOCK_PATH too and pip.conf in hash-checking mode against it.
 */
export function planTargetFiles(plan: Plan, home: string, lock?: string): TargetFile[] {
  const pip = renderPipConf(plan, lock === undefined ? {} : { lock: LOCK_PATH });
  const content = { pip, distutils: renderPydistutilsCfg(plan), lock };
  return targetPathsFor(home).flatMap(({ kind, ...target }) => {
    const text = content[kind];
    return text === undefined ? [] : [{ ...target, content: text }];
  });
}
