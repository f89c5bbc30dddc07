// `dib-pypi mirror sync DIR --upstream URL`: flags and --config merged, progress on stderr, a summary, exit 1 on any failure.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { parseSyncConfig } from '../mirror/sync/config.js';
import { syncMirror, type SyncResult } from '../mirror/sync/sync-mirror.js';
import { buildSyncOptions, mergeOptions, parseRequirementNames } from '../mirror/sync/options.js';
import { stepHookFromEnv } from './fault-hook.js';
import { timingTracerFromEnv } from './timing-tracer.js';
import { printJson, printLine } from './output.js';
import { redact } from '../redact.js';
import { indexSnapshot, syncSnapshot } from './progress-labels.js';
import { statusLineFromFlags } from './progress-flags.js';
import type { MirrorSyncOptions } from './commands/mirror-sync.js';

function readText(path: string, source: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${JSON.stringify(path)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, source);
  }
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

function summary(result: SyncResult, seconds: number): string {
  return (
    `synced ${result.projects - result.skippedProjects.length} projects (${result.unchanged} unchanged${result.skippedProjects.length > 0 ? `; ${result.skippedProjects.length} more skipped: no file to take` : ''}): ${result.downloaded} files downloaded (${mb(result.bytes)}), ` +
    `${result.present} already present, ${result.deleted} deleted${result.deletedProjects > 0 ? ` (${result.deletedProjects} projects removed)` : ''}, ${result.skipped} skipped, ${result.failed.length} failed in ${seconds.toFixed(2)} s`
  );
}

export async function runMirrorSync(flags: MirrorSyncOptions): Promise<void> {
  const dir = resolve(flags.positionals[0] as string);
  const fromFlags = flags.syncFlags;
  const fromFile = flags.config === undefined ? {} : parseSyncConfig(readText(flags.config, '--config'), flags.config);
  const raw = mergeOptions(fromFlags, fromFile);
  raw['dry-run'] = flags.dryRun === true;
  const requirementFiles = Array.isArray(raw.requirements) ? raw.requirements : [];
  const requirementNames = requirementFiles.flatMap((file) => parseRequirementNames(readText(file, '--requirements'), file));
  if (typeof raw.upstream !== 'string' || raw.upstream === '')
    throw new UsageError('required option --upstream not given (on the command line or in --config)', 'dib-pypi mirror sync');
  const options = buildSyncOptions(dir, raw, requirementNames);
  const status = statusLineFromFlags(flags, process.env, process.stderr);
  const started = process.hrtime.bigint();
  const result = await syncMirror(options, {
    onProgress: (p) => status.progress(syncSnapshot(p)),
    onLog: (line) => status.log(`dib-pypi: ${line}`),
    onStep: stepHookFromEnv(process.env),
    onIndexProgress: (p) => status.progress(indexSnapshot(p)),
    tracer: timingTracerFromEnv(process.env),
  });
  status.clear();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const indexProblems = result.index?.problems ?? [];
  if (!flags.json) {
    // The dry run names each skipped project and each failure with its reason, as the real run does.
    for (const p of result.skippedProjects) process.stderr.write(`dib-pypi: skipped project ${redact(`${p.project}: ${p.reason}`)}\n`);
    for (const f of result.failed) process.stderr.write(`dib-pypi: failed: ${redact(`${f.project}${f.filename ? `/${f.filename}` : ''}: ${f.message}`)}\n`);
    for (const p of indexProblems) process.stderr.write(`dib-pypi: broken file skipped by the index: ${redact(`${p.path}: ${p.message}`)}\n`);
  }
  if (flags.json) printJson({ dir, ...result, seconds: Number(seconds.toFixed(3)) });
  else if (result.wouldDownload !== undefined) {
    for (const f of result.wouldDownload) printLine(`would download ${f.project}/${f.filename}${f.size === undefined ? '' : ` (${f.size} bytes)`}`);
    const bytes = result.wouldDownload.reduce((sum, f) => sum + (f.size ?? 0), 0);
    const unknown = result.wouldDownload.filter((f) => f.size === undefined).length;
    const projects = result.skippedProjects.length > 0 ? `, ${result.skippedProjects.length} projects skipped` : '';
    printLine(
      `dry run: ${result.wouldDownload.length} files to download, ${mb(bytes)}${unknown > 0 ? ` (+ ${unknown} of unknown size)` : ''}, ${result.skipped} skipped${projects}, ${result.failed.length} failed; nothing written`,
    );
  } else {
    printLine(summary(result, seconds));
    if (result.index) printLine(`indexed ${dir}: ${result.index.projects} projects, ${result.index.files} files`);
  }
  if (result.failed.length > 0 || indexProblems.length > 0) process.exitCode = 1;
}
