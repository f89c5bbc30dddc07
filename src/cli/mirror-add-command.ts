// `dib-pypi mirror add DIR [-r FILE]... [PKG...]`: flags -> plan, progress on stderr, summary on stdout.
import { UsageError } from '../errors.js';
import { addToMirror, type AddEvent, type AddResult } from '../mirror/add/add.js';
import { planAdd } from '../mirror/add/add-plan.js';
import { printJson, printLine, warn } from './output.js';
import { indexSnapshot } from './progress-labels.js';
import { statusLineFromFlags } from './progress-flags.js';
import type { StatusLine } from './status-line.js';
import type { MirrorAddOptions } from './commands/mirror-add.js';

/** The default lock file: beside the user, like pip-compile's output, not inside the (shared, cumulative) mirror. */
export const DEFAULT_LOCK = 'requirements.lock';

/** pip's way: 1000-based units. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} bytes`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** Turns add events into the live status (terminal) or into plain lines (logs): what pip collects, saves and builds. */
function progressReporter(status: StatusLine): (event: AddEvent) => void {
  let run = '';
  let runPhase = '';
  let saved = 0;
  const show = (text: string) => status.step(text);
  // In a log, each pip run is a phase: a long quiet one (building a big sdist) still gets a line every few seconds, and its time.
  const countRun = () => (status.isLive ? undefined : status.progress({ phase: runPhase, done: saved, unit: 'files' }));
  return (event) => {
    switch (event.kind) {
      case 'python':
        status.info(`dib-pypi: using pip ${event.info.pipVersion} (python ${event.info.pythonVersion}, ${event.info.sysPlatform}) from ${event.python}`);
        return;
      case 'note':
        status.info(`dib-pypi: ${event.message}`);
        return;
      case 'run':
        run = `[${event.step}/${event.steps} ${event.target}]`;
        saved = 0;
        runPhase = `${run} pip ${event.command}${event.command === 'wheel' ? ' (building wheels from sdists)' : ''}`;
        if (status.isLive) show(runPhase);
        else countRun();
        return;
      case 'pip': {
        const e = event.event;
        if (e.kind === 'collecting') show(`${run} collecting ${e.requirement}${status.isLive ? ` (${saved} saved)` : ''}`);
        else if (e.kind === 'downloading') status.update(`${run} downloading ${e.file}${e.size === undefined ? '' : ` (${e.size})`}`);
        else if (e.kind === 'building') show(`${run} building ${e.project}`);
        else {
          saved++;
          show(`${run} ${e.kind} ${e.file}`);
          countRun();
        }
        return;
      }
      case 'place':
        status.progress({ phase: 'add: moving files into the mirror', done: event.done, total: event.total, unit: 'files' });
        return;
      case 'lock':
        return;
      case 'index':
        status.progress(indexSnapshot(event.progress));
        return;
    }
  };
}

function printSummary(result: AddResult): void {
  const skipped = result.skipped.length === 0 ? '' : `, skipped ${result.skipped.length} already there`;
  printLine(`added ${result.added.length} file(s) (${formatBytes(result.bytesAdded)}) to ${result.dir}${skipped}`);
  for (const file of result.added) printLine(`  + ${file.path}`);
  for (const file of result.skipped) printLine(`  = ${file.path} (${file.reason})`);
  const targets = result.targets.map((t) => `${t.label} (python ${t.pythonVersion ?? '?'}, ${t.sysPlatform ?? '?'})`);
  printLine(`targets: ${targets.join('; ')}`);
  printLine(`resolved ${result.resolved.length} project version(s)${result.lockFile === undefined ? '' : `; lock: ${result.lockFile}`}`);
  const changes = result.lockChanges;
  if (changes !== undefined) {
    printLine(
      `lock: ${changes.added.length} pin(s) added, ${changes.changed.length} project(s) changed, ${changes.unchanged.length} unchanged, ${changes.kept.length} kept from earlier runs`,
    );
    for (const pin of changes.added) printLine(`  + ${pin}`);
    for (const c of changes.changed) {
      const same = c.from.join('\n') === c.to.join('\n');
      printLine(`  ~ ${c.project}: ${same ? `${c.to.join(', ')} (other files, other hashes)` : `${c.from.join(', ')} -> ${c.to.join(', ')}`}`);
    }
  }
  printLine(`index: ${result.index.projects} project(s), ${result.index.files} file(s)`);
}

export async function runMirrorAdd(flags: MirrorAddOptions): Promise<void> {
  const [dir, ...requirements] = flags.positionals;
  if (dir === undefined) throw new UsageError('missing DIR (usage: dib-pypi mirror add DIR [-r FILE]... [PKG...])', 'mirror add');
  if (flags.lock !== undefined && flags.noLock) throw new UsageError('--lock and --no-lock exclude each other', 'mirror add');
  const cwd = process.cwd();
  const plan = planAdd(
    {
      dir,
      requirementFiles: flags.requirement ?? [],
      requirements,
      python: flags.python,
      indexUrl: flags.indexUrl,
      extraIndexUrls: flags.extraIndexUrl ?? [],
      findLinks: flags.findLinks ?? [],
      trustedHosts: flags.trustedHost ?? [],
      noIndex: flags.noIndex === true,
      pythonVersions: flags.pythonVersion ?? [],
      platforms: flags.platform ?? [],
      implementation: flags.implementation,
      abis: flags.abi ?? [],
      onlyBinary: flags.onlyBinary ?? [],
      noBinary: flags.noBinary ?? [],
      buildWheels: flags.buildWheels === true,
      noBuildIsolation: flags.noBuildIsolation === true,
      pre: flags.pre === true,
      noCacheDir: flags.noCacheDir === true,
      lockFile: flags.noLock ? undefined : (flags.lock ?? DEFAULT_LOCK),
    },
    cwd,
  );
  const status = statusLineFromFlags(flags, process.env, process.stderr);
  let result: AddResult;
  try {
    result = await addToMirror({
      plan,
      cwd,
      env: process.env,
      onEvent: progressReporter(status),
      ...(flags.verbose ? { onPipLine: (line: string) => status.log(`pip: ${line}`) } : {}),
    });
  } finally {
    status.clear();
  }
  for (const problem of result.index.problems) warn(`index: ${problem.path}: ${problem.message}`);
  if (result.index.problems.length > 0) process.exitCode = 1;
  if (flags.json) printJson(result);
  else printSummary(result);
}
