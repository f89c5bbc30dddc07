// `dib-pypi mirror yank|unyank DIR PROJECT==VERSION`: write or remove the version's `.yanked` sidecars, re-indexed.
import { indexMirror } from '../mirror/index/index-mirror.js';
import { checkTarget, describeTarget } from '../mirror/store/mirror-target.js';
import { checkReason, setYanked } from '../mirror/store/yank-files.js';
import type { MirrorYankOptions } from './commands/mirror-yank.js';
import { stepHookFromEnv } from './fault-hook.js';
import { mirrorDir, reportProblems } from './mirror-change.js';
import { printJson, printLine } from './output.js';

export async function runMirrorYank(flags: MirrorYankOptions): Promise<void> {
  const isYank = flags.reason !== null;
  const dir = mirrorDir(flags.dir, isYank ? 'mirror yank' : 'mirror unyank');
  const target = checkTarget({ project: flags.project, version: flags.version });
  const reason = flags.reason === null ? null : checkReason(flags.reason);
  const onStep = stepHookFromEnv(process.env);
  const outcome = await setYanked(dir, target, reason, { reindex: () => indexMirror({ dir, onStep }), onStep });
  if (flags.json) printJson({ dir, project: target.project, version: target.version, yanked: isYank, reason, files: outcome.files, changed: outcome.changed });
  else {
    const verb = isYank ? 'yanked' : 'unyanked';
    printLine(`${verb} ${describeTarget(target)} in ${dir}: ${outcome.files.length} file(s)${outcome.changed === 0 ? ` (already ${verb})` : ''}, re-indexed`);
  }
  reportProblems(outcome.index);
}
