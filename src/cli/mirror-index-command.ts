// `dib-pypi mirror index DIR`: index a mirror, with progress on a terminal and a summary at the end.
import { statSync } from 'node:fs';
import { StateError } from '../errors.js';
import { resolve } from 'node:path';
import { indexMirror } from '../mirror/index/index-mirror.js';
import { finishRemovals } from '../mirror/store/remove-files.js';
import type { IndexResult } from '../mirror/index/types.js';
import { printJson, printLine } from './output.js';
import { redact } from '../redact.js';
import { indexSnapshot } from './progress-labels.js';
import { statusLineFromFlags } from './progress-flags.js';
import { stepHookFromEnv } from './fault-hook.js';
import type { MirrorIndexOptions } from './commands/mirror-index.js';
import { timingTracerFromEnv } from './timing-tracer.js';

export async function runMirrorIndex(flags: MirrorIndexOptions): Promise<void> {
  // With a cold cache a re-index asks for the inode of every project directory at once (statTopLevel):
  // more threads, more reads in flight (libuv reads this when its pool first starts, which is after here).
  process.env.UV_THREADPOOL_SIZE ??= '16';
  const dir = resolve(flags.positionals[0] as string);
  const progress = statusLineFromFlags(flags, process.env, process.stderr);
  const started = process.hrtime.bigint();
  let result: IndexResult;
  try {
    // A removal killed before its end (mirror remove) is finished first: its files are gone from the pages it re-indexes.
    // One under way in another process (its lock held) is left to it.
    if (statSync(dir, { throwIfNoEntry: false })?.isDirectory() === true)
      await finishRemovals(dir, { reindex: () => indexMirror({ dir }) }).catch((error: unknown) => {
        if (!(error instanceof StateError)) throw error;
      });
    result = await indexMirror({
      dir,
      full: flags.full === true,
      onProgress: (p) => progress.progress(indexSnapshot(p)),
      onStep: stepHookFromEnv(process.env),
      tracer: timingTracerFromEnv(process.env),
    });
  } finally {
    progress.clear();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const problem of result.problems) process.stderr.write(`dib-pypi: broken file skipped: ${redact(`${problem.path}: ${problem.message}`)}\n`);
  if (flags.json) printJson({ dir, ...result, seconds: Number(seconds.toFixed(3)) });
  else {
    printLine(
      `indexed ${dir}: ${result.projects} projects, ${result.files} files ` +
        `(${result.inspected} inspected, ${result.written} written, ${result.removed} removed) in ${seconds.toFixed(2)} s`,
    );
  }
  if (result.problems.length > 0) {
    if (!flags.json) printLine(`${result.problems.length} broken file(s) not indexed (listed above)`);
    process.exitCode = 1;
  }
}
