// `PROJECT` or `PROJECT==VERSION` as the mirror's change commands take it (pure).
import { UsageError } from '../../errors.js';

/** Split `name==version`; `isVersionRequired`: a bare name is a usage error. The name and version are checked below the CLI. */
export function parseProjectSpec(spec: string, isVersionRequired: boolean): { project: string; version?: string } {
  const at = spec.indexOf('==');
  if (at === -1) {
    if (isVersionRequired) throw new UsageError(`give PROJECT==VERSION, not ${JSON.stringify(spec)}`, 'PROJECT==VERSION');
    return { project: spec };
  }
  const project = spec.slice(0, at);
  const version = spec.slice(at + 2);
  if (project === '' || version === '' || version.includes('=')) throw new UsageError(`not PROJECT==VERSION: ${JSON.stringify(spec)}`, 'PROJECT==VERSION');
  return { project, version };
}
