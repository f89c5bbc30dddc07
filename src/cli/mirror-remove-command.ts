// `dib-pypi mirror remove DIR PROJECT[==VERSION] [FILE] [--forget]`: take files out of a mirror, re-indexed, recorded for the pull-through cache.
import { indexMirror } from '../mirror/index/index-mirror.js';
import { checkTarget, describeTarget } from '../mirror/store/mirror-target.js';
import { forgetRemoved, removeFromMirror } from '../mirror/store/remove-files.js';
import type { MirrorRemoveOptions } from './commands/mirror-remove.js';
import { stepHookFromEnv } from './fault-hook.js';
import { mirrorDir, reportProblems } from './mirror-change.js';
import { printJson, printLine } from './output.js';

export async function runMirrorRemove(flags: MirrorRemoveOptions): Promise<void> {
  const dir = mirrorDir(flags.dir, 'mirror remove');
  const target = checkTarget({ project: flags.project, version: flags.version, file: flags.file });
  if (flags.forget) {
    forgetRemoved(dir, target);
    if (flags.json) printJson({ dir, forgotten: target });
    else printLine(`forgot the removal of ${describeTarget(target)} in ${dir}: serve --upstream may fetch it again`);
    return;
  }
  const onStep = stepHookFromEnv(process.env);
  const outcome = await removeFromMirror(dir, target, { reindex: () => indexMirror({ dir, onStep }), onStep });
  if (flags.json) printJson({ dir, removed: target, files: outcome.files, paths: outcome.paths });
  else {
    printLine(`removed ${describeTarget(target)} from ${dir}: ${outcome.files.length} file(s), re-indexed`);
    for (const file of outcome.files) printLine(`  ${file}`);
  }
  reportProblems(outcome.index);
}
