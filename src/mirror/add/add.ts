// `mirror add`: fill a mirror through the host's pip (download per target, optionally build wheels), place the files, lock, re-index.
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { eq as sameVersion } from '@renovatebot/pep440';
import { UnusablePathError, UsageError } from '../../errors.js';
import { tempPathFor, writeFileAtomic } from '../../fs/atomic-write.js';
import { sha256File } from '../../fs/hash-file.js';
import type { EnvMap } from '../../plan/types.js';
import { downloadArgv, pythonMinorVersion, wheelArgv, type AddPlan, type Target } from './add-plan.js';
import { parseDistFilename } from '../../pypi/dist-filename.js';
import { indexMirror } from '../index/index-mirror.js';
import {
  buildLockEntries,
  isOwnLock,
  mergeLock,
  parseLock,
  renderLock,
  resolvePins,
  sysPlatformOfTag,
  type LockChanges,
  type LockEntry,
  type Pin,
  type PreviousLock,
  type TargetEnvironment,
} from '../../pypi/lock-file.js';
import { makeAddWorkDir } from '../store/work-dir.js';
import { collectDownloads, placeFiles, planPlacement, type DownloadedFile, type PlacedFile, type SkippedFile } from '../store/place-files.js';
import { parsePipLine, pipFailureReason, type PipEvent } from './pip-output.js';
import { pipFailure, probePython, runPip, type PythonInfo } from './run-pip.js';
import type { IndexOptions, IndexProgress, IndexResult } from '../index/types.js';

export type AddEvent =
  | { kind: 'python'; python: string; info: PythonInfo }
  | { kind: 'note'; message: string }
  | { kind: 'run'; command: 'download' | 'wheel'; target: string; step: number; steps: number }
  | { kind: 'pip'; target: string; event: PipEvent }
  | { kind: 'place'; done: number; total: number }
  | { kind: 'lock'; path: string }
  | { kind: 'index'; progress: IndexProgress };

export interface AddOptions {
  plan: AddPlan;
  cwd: string;
  env: EnvMap;
  onEvent?: (event: AddEvent) => void;
  /** Every raw line pip prints (for --verbose). */
  onPipLine?: (line: string) => void;
  /** The indexer; tests may pass another. */
  index?: (options: IndexOptions) => Promise<IndexResult>;
}

export interface AddResult {
  dir: string;
  python: { path: string } & PythonInfo;
  targets: TargetEnvironment[];
  added: PlacedFile[];
  skipped: SkippedFile[];
  bytesAdded: number;
  /** What the targets resolved, with the hashes of every file of each version in the mirror. */
  resolved: LockEntry[];
  lockFile?: string;
  /** What this run changed in the lock file (which also keeps every earlier run's pins). */
  lockChanges?: LockChanges;
  index: IndexResult;
}

/** Fail before any download on what we can check on disk: the mirror is a directory, the -r files and the lock's directory exist. */
function checkPaths(plan: AddPlan): void {
  if (existsSync(plan.dir) && !statSync(plan.dir).isDirectory()) throw new UsageError(`not a directory: ${plan.dir}`, 'mirror add');
  for (const file of plan.requirementFiles) {
    if (!existsSync(file) || !statSync(file).isFile()) throw new UnusablePathError('requirement', file, `no such file: ${file}`);
  }
  if (plan.lockFile !== undefined && !existsSync(dirname(plan.lockFile)))
    throw new UnusablePathError('lock', plan.lockFile, `directory does not exist: ${dirname(plan.lockFile)}`);
}

/**
 * The lock an earlier run wrote at the lock's path, to merge this run's pins into; read before any
 * download, so that a file that is not ours (or is damaged) stops the run before the mirror changes.
 */
function readPreviousLock(path: string | undefined): PreviousLock | undefined {
  if (path === undefined) return undefined;
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (stat === undefined) return undefined;
  const shown = JSON.stringify(path);
  if (!stat.isFile()) throw new UnusablePathError('lock', path, `${shown} exists and is not a file`);
  const text = readFileSync(path, 'utf8');
  if (!isOwnLock(text))
    throw new UnusablePathError('lock', path, `${shown} exists and was not written by dib-pypi mirror add: give another --lock FILE, or move it away`);
  try {
    return parseLock(text);
  } catch (error) {
    throw new UnusablePathError('lock', path, `cannot merge into ${shown}: ${(error as Error).message} (move it away to start a new lock)`, { cause: error });
  }
}

/** The marker-relevant facts of each target: its own flags where given, else those of the interpreter running pip. */
export function targetEnvironments(targets: readonly Target[], info: PythonInfo): TargetEnvironment[] {
  return targets.map((t) => {
    const env: TargetEnvironment = { label: t.label };
    const python = t.pythonVersion === undefined ? info.pythonVersion : pythonMinorVersion(t.pythonVersion);
    const platforms = new Set(t.platforms.map(sysPlatformOfTag));
    const platform = t.platforms.length === 0 ? info.sysPlatform : platforms.size === 1 ? [...platforms][0] : undefined;
    if (python !== undefined) env.pythonVersion = python;
    if (platform !== undefined) env.sysPlatform = platform;
    return env;
  });
}

/** One pip run, its lines turned into progress events as they arrive. */
function runPipStep(options: AddOptions, args: string[], label: string) {
  return runPip({
    python: options.plan.python,
    args,
    cwd: options.cwd,
    env: options.env,
    onLine: (line) => {
      options.onPipLine?.(line);
      const event = parsePipLine(line);
      if (event !== undefined) options.onEvent?.({ kind: 'pip', target: label, event });
    },
  });
}

/** One `pip download` per target, each into its own directory (which target resolved what feeds the lock's markers). */
async function runDownloads(options: AddOptions, work: string, steps: number): Promise<{ dir: string; target: string }[]> {
  const runs: { dir: string; target: string }[] = [];
  for (const [i, target] of options.plan.targets.entries()) {
    const dest = join(work, `target-${i + 1}`);
    mkdirSync(dest);
    options.onEvent?.({ kind: 'run', command: 'download', target: target.label, step: i + 1, steps });
    const outcome = await runPipStep(options, downloadArgv(options.plan, target, dest), target.label);
    if (outcome.exitCode !== 0) throw pipFailure(`pip download failed for target ${target.label}: ${pipFailureReason(outcome.lines)}`, outcome);
    runs.push({ dir: dest, target: target.label });
  }
  return runs;
}

/** `--build-wheels`: one `pip wheel` run over every downloaded sdist; returns the directory of the built wheels. */
async function buildWheels(options: AddOptions, work: string, runs: { dir: string }[], steps: number): Promise<string | undefined> {
  const byName = new Map(
    runs.flatMap((r) =>
      readdirSync(r.dir)
        .filter((n) => parseDistFilename(n)?.kind === 'sdist')
        .map((n) => [n, join(r.dir, n)] as const),
    ),
  );
  const sdists = [...byName.values()].sort();
  if (sdists.length === 0) return undefined;
  const dest = join(work, 'wheels');
  mkdirSync(dest);
  options.onEvent?.({ kind: 'run', command: 'wheel', target: 'native', step: steps, steps });
  const outcome = await runPipStep(options, wheelArgv(options.plan, sdists, dest), 'native');
  if (outcome.exitCode !== 0) throw pipFailure(`pip wheel failed to build a wheel from a downloaded sdist: ${pipFailureReason(outcome.lines)}`, outcome);
  return dest;
}

/** sha256 of every distribution file in the mirror for the pinned projects (project directories and loose top-level files). */
async function mirrorHashes(mirror: string, pins: readonly Pin[], known: Map<string, string>): Promise<(pin: Pin) => string[]> {
  const projects = new Set(pins.map((p) => p.project));
  const found: { project: string; version: string; sha256: string }[] = [];
  const consider = async (path: string, name: string) => {
    const parsed = parseDistFilename(name);
    if (parsed === undefined || !projects.has(parsed.normalized) || !lstatSync(path).isFile()) return;
    const sha256 = known.get(path) ?? (await sha256File(path)).sha256;
    found.push({ project: parsed.normalized, version: parsed.version, sha256 });
  };
  for (const name of readdirSync(mirror)) await consider(join(mirror, name), name);
  for (const project of projects) {
    const dir = join(mirror, project);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) await consider(join(dir, name), name);
  }
  return (pin) => found.filter((f) => f.project === pin.project && sameVersion(f.version, pin.version)).map((f) => f.sha256);
}

function writeLock(path: string, text: string): void {
  const existing = lstatSync(path, { throwIfNoEntry: false });
  const own = existing?.isFile()
    ? { mode: existing.mode, uid: existing.uid, gid: existing.gid }
    : { mode: 0o644, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  writeFileAtomic(path, tempPathFor(path), Buffer.from(text), own);
}

interface LockAndIndex {
  resolved: LockEntry[];
  index: IndexResult;
  envs: TargetEnvironment[];
  lockChanges?: LockChanges;
}

async function lockAndIndex(options: AddOptions, files: DownloadedFile[], info: PythonInfo, previous: PreviousLock | undefined): Promise<LockAndIndex> {
  const { plan } = options;
  const envs = targetEnvironments(plan.targets, info);
  const pins = resolvePins(files);
  const known = new Map(files.map((f) => [join(plan.dir, f.project, f.name), f.sha256]));
  const resolved = buildLockEntries(pins, envs, await mirrorHashes(plan.dir, pins, known));
  let lockChanges: LockChanges | undefined;
  if (plan.lockFile !== undefined) {
    const merged = mergeLock(previous?.entries ?? [], resolved);
    lockChanges = merged.changes;
    writeLock(plan.lockFile, renderLock(merged.entries, envs, basename(plan.lockFile), previous?.targets ?? []));
    options.onEvent?.({ kind: 'lock', path: plan.lockFile });
  }
  const index = await (options.index ?? indexMirror)({ dir: plan.dir, onProgress: (progress) => options.onEvent?.({ kind: 'index', progress }) });
  return { resolved, index, envs, ...(lockChanges === undefined ? {} : { lockChanges }) };
}

/** Run `mirror add`: pip first (into a temp directory), then, only when every pip run succeeded, the mirror changes. */
export async function addToMirror(options: AddOptions): Promise<AddResult> {
  const { plan } = options;
  checkPaths(plan);
  const previousLock = readPreviousLock(plan.lockFile);
  const info = await probePython(plan.python, options.env, options.cwd);
  options.onEvent?.({ kind: 'python', python: plan.python, info });
  if (plan.addedOnlyBinary) options.onEvent?.({ kind: 'note', message: 'foreign targets take wheels only: added --only-binary=:all:' });
  const isNewMirror = !existsSync(plan.dir);
  mkdirSync(plan.dir, { recursive: true });
  const work = makeAddWorkDir(plan.dir);
  let hasMoved = false;
  try {
    const steps = plan.targets.length + (plan.buildWheels ? 1 : 0);
    const runs: { dir: string; target?: string }[] = await runDownloads(options, work, steps);
    if (plan.buildWheels) {
      const built = await buildWheels(options, work, runs, steps);
      if (built !== undefined) runs.push({ dir: built });
    }
    const files = await collectDownloads(runs);
    const placement = await planPlacement(plan.dir, files);
    hasMoved = true;
    const added = placeFiles(plan.dir, placement, (done, total) => options.onEvent?.({ kind: 'place', done, total }));
    const { resolved, index, envs, lockChanges } = await lockAndIndex(options, files, info, previousLock);
    const result: AddResult = {
      dir: plan.dir,
      python: { path: plan.python, ...info },
      targets: envs,
      added,
      skipped: placement.skipped,
      bytesAdded: added.reduce((sum, f) => sum + f.size, 0),
      resolved,
      index,
    };
    if (plan.lockFile !== undefined) result.lockFile = plan.lockFile;
    if (lockChanges !== undefined) result.lockChanges = lockChanges;
    return result;
  } finally {
    rmSync(work, { recursive: true, force: true });
    // A failed first run leaves no trace: not even the directory it created.
    if (isNewMirror && !hasMoved) rmSync(plan.dir, { recursive: true, force: true });
  }
}
