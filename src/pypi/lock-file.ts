// The lock file `mirror add` writes: pip `--require-hashes` format, one pin per resolved project and version. Pure.
import { appendAll } from '../append-all.js';
import { compare as compareVersions, eq as sameVersion } from '@renovatebot/pep440';
import { DibPypiError } from '../errors.js';

/** A file one or more targets resolved (built wheels: no targets). */
export interface ResolvedFile {
  project: string;
  version: string;
  targets: string[];
}

/** What a target's interpreter looks like to PEP 508 markers, where known. */
export interface TargetEnvironment {
  label: string;
  /** `3.11` */
  pythonVersion?: string;
  /** `linux`, `win32`, `darwin` */
  sysPlatform?: string;
}

export interface Pin {
  project: string;
  version: string;
  /** Labels of the targets that resolved this version. */
  targets: string[];
}

export interface LockEntry extends Pin {
  /** PEP 508 marker that holds on exactly these targets; undefined when it is every target. */
  marker?: string;
  /** sha256 (hex) of every file of this project and version in the mirror, sorted. */
  sha256: string[];
}

/** Project and version pins, one per (project, PEP 440 version) any target resolved, sorted by project then version. */
export function resolvePins(files: readonly ResolvedFile[]): Pin[] {
  const pins: Pin[] = [];
  for (const file of files) {
    if (file.targets.length === 0) continue;
    const pin = pins.find((p) => p.project === file.project && sameVersion(p.version, file.version));
    if (pin === undefined) pins.push({ project: file.project, version: file.version, targets: [...file.targets] });
    else pin.targets = [...new Set([...pin.targets, ...file.targets])];
  }
  return pins.sort((a, b) => (a.project !== b.project ? (a.project < b.project ? -1 : 1) : compareVersions(a.version, b.version)));
}

/** sys.platform of a platform tag (PEP 425/600/656 and macOS tags), undefined when unknown. */
export function sysPlatformOfTag(tag: string): string | undefined {
  if (/^(manylinux|musllinux|linux)_/.test(tag) || /^manylinux\d/.test(tag)) return 'linux';
  if (/^win(32|_)/.test(tag)) return 'win32';
  if (/^macosx_/.test(tag)) return 'darwin';
  return undefined;
}

type Field = 'python_version' | 'sys_platform';
// Simplest markers first: most multi-target runs differ by Python version only.
const FIELD_SETS: Field[][] = [['python_version'], ['sys_platform'], ['python_version', 'sys_platform']];

function fieldValue(env: TargetEnvironment, field: Field): string | undefined {
  return field === 'python_version' ? env.pythonVersion : env.sysPlatform;
}

/**
 * A PEP 508 marker true on the targets in `targets` and false on every other target of the run,
 * from python_version and sys_platform; undefined when `targets` is all of them, null when those
 * two fields cannot tell the targets apart.
 */
export function markerFor(targets: readonly string[], envs: readonly TargetEnvironment[]): string | undefined | null {
  const inside = envs.filter((e) => targets.includes(e.label));
  if (inside.length === envs.length) return undefined;
  for (const fields of FIELD_SETS) {
    if (envs.some((e) => fields.some((f) => fieldValue(e, f) === undefined))) continue;
    const key = (e: TargetEnvironment) => fields.map((f) => fieldValue(e, f)).join('\0');
    const outsideKeys = new Set(envs.filter((e) => !targets.includes(e.label)).map(key));
    if (inside.some((e) => outsideKeys.has(key(e)))) continue;
    const seen = new Set<string>();
    const terms: string[] = [];
    for (const env of inside) {
      if (seen.has(key(env))) continue;
      seen.add(key(env));
      const term = fields.map((f) => `${f} == "${fieldValue(env, f)}"`).join(' and ');
      terms.push(fields.length > 1 && inside.length > 1 ? `(${term})` : term);
    }
    return terms.join(' or ');
  }
  return null;
}

/** Lock entries for `pins`: each with its marker and the hashes `hashesOf` finds in the mirror. */
export function buildLockEntries(pins: readonly Pin[], envs: readonly TargetEnvironment[], hashesOf: (pin: Pin) => string[]): LockEntry[] {
  const unexpressible: string[] = [];
  const entries = pins.map((pin): LockEntry => {
    const marker = markerFor(pin.targets, envs);
    if (marker === null) unexpressible.push(`${pin.project}==${pin.version} (only for ${pin.targets.join(', ')})`);
    const entry: LockEntry = { ...pin, sha256: [...new Set(hashesOf(pin))].sort() };
    if (typeof marker === 'string') entry.marker = marker;
    return entry;
  });
  if (unexpressible.length > 0) {
    throw new DibPypiError(
      `cannot write a lock for these targets: python_version and sys_platform markers cannot tell apart the targets that resolved\n${unexpressible.map((u) => `  ${u}`).join('\n')}\n` +
        'The mirror was filled; write one lock per target instead (one mirror add run per target with its own --lock FILE), or pass --no-lock.',
    );
  }
  return entries;
}

function describeTarget(env: TargetEnvironment): string {
  const facts = [env.pythonVersion === undefined ? undefined : `python ${env.pythonVersion}`, env.sysPlatform].filter((x) => x !== undefined);
  return facts.length === 0 ? env.label : `${env.label} (${facts.join(', ')})`;
}

const FIRST_LINE = '# Written by `dib-pypi mirror add`: every project it resolved, pinned, with the sha256 of every';

/**
 * The lock file's text: a header saying how to use it, then `name==version [; marker] \` and one
 * `--hash` line per file. `earlierTargets`: the targets of the runs an earlier lock described.
 */
export function renderLock(
  entries: readonly LockEntry[],
  envs: readonly TargetEnvironment[],
  fileName = 'requirements.lock',
  earlierTargets: readonly string[] = [],
): string {
  const header = [
    FIRST_LINE,
    '# file of that version in the mirror, so the same lock installs on each target. Install with',
    `#   pip install --require-hashes --index-url file:///tmp/pypi -r ${fileName}`,
    `# Targets: ${[...new Set([...earlierTargets, ...envs.map(describeTarget)])].join('; ')}`,
  ];
  const blocks = entries.map((entry) => {
    const head = `${entry.project}==${entry.version}${entry.marker === undefined ? '' : ` ; ${entry.marker}`}`;
    return [head, ...entry.sha256.map((sha) => `    --hash=sha256:${sha}`)].join(' \\\n');
  });
  return [...header, ...blocks].join('\n') + '\n';
}

/** A lock file `mirror add` wrote earlier, read back. */
export interface PreviousLock {
  entries: LockEntry[];
  /** Its `# Targets:` descriptions. */
  targets: string[];
}

/** Whether `text` is a lock `mirror add` wrote (its first line), so that it may be merged into and rewritten. */
export function isOwnLock(text: string): boolean {
  return text.split('\n', 1)[0] === FIRST_LINE;
}

/**
 * Read a lock renderLock wrote: `name==version [; marker]` with its `--hash=sha256:` continuation lines.
 * Throws naming the first line it cannot read.
 */
export function parseLock(text: string): PreviousLock {
  const entries: LockEntry[] = [];
  let targets: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const first = i + 1;
    let logical = lines[i] as string;
    while (logical.endsWith('\\') && i + 1 < lines.length) logical = `${logical.slice(0, -1)} ${lines[++i]}`;
    if (logical.startsWith('# Targets: '))
      targets = logical
        .slice('# Targets: '.length)
        .split('; ')
        .filter((t) => t !== '');
    if (logical.trim() === '' || logical.startsWith('#')) continue;
    const sha256 = [...logical.matchAll(/\s--hash=sha256:([0-9a-f]{64})\b/g)].map((m) => m[1] as string);
    const pin = /^([a-z0-9][a-z0-9.-]*)==(\S+)(?: ; (.+))?$/.exec(logical.replace(/\s+--hash=sha256:[0-9a-f]{64}\b/g, '').trim());
    // pip reads a requirement line's options from its first word that starts with `-` (req_file.py,
    // break_args_options): such a word in a marker would pass an option such as --global-option.
    if (pin === null || sha256.length === 0 || /(^|\s)-/.test(pin[3] ?? ''))
      throw new DibPypiError(`line ${first} is not a pin with --hash=sha256: lines: ${JSON.stringify((lines[first - 1] ?? '').slice(0, 120))}`);
    const entry: LockEntry = { project: pin[1] as string, version: pin[2] as string, targets: [], sha256 };
    if (pin[3] !== undefined) entry.marker = pin[3];
    entries.push(entry);
  }
  return { entries, targets };
}

/** `project==version [; marker]`: how a pin is named in messages. */
export function pinText(entry: Pick<LockEntry, 'project' | 'version' | 'marker'>): string {
  return `${entry.project}==${entry.version}${entry.marker === undefined ? '' : ` ; ${entry.marker}`}`;
}

/** What a merge did to the lock, project by project. */
export interface LockChanges {
  /** Pins of projects the lock did not have. */
  added: string[];
  /** Projects resolved again to other pins (or the same pins with other files): their pins before and after. */
  changed: { project: string; from: string[]; to: string[] }[];
  /** Pins of projects this run did not resolve, kept as they were. */
  kept: string[];
  /** Pins this run resolved exactly as the lock had them. */
  unchanged: string[];
}

function sameEntries(a: readonly LockEntry[], b: readonly LockEntry[]): boolean {
  const key = (e: LockEntry) => `${pinText(e)} ${e.sha256.join(',')}`;
  return a.length === b.length && a.map(key).join('\n') === b.map(key).join('\n');
}

/** Entries sorted by project, then PEP 440 version, then marker: the same pins always give the same file. */
export function sortEntries(entries: LockEntry[]): LockEntry[] {
  return entries.sort((a, b) =>
    a.project !== b.project
      ? a.project < b.project
        ? -1
        : 1
      : compareVersions(a.version, b.version) || ((a.marker ?? '') < (b.marker ?? '') ? -1 : (a.marker ?? '') > (b.marker ?? '') ? 1 : 0),
  );
}

/**
 * The lock after a run: every project of the earlier lock, and this run's pins. A project this run
 * resolved takes this run's pins (a lock cannot pin one project twice for the same target); the
 * others stay as they were. Sorted, so the same pins always give the same bytes.
 */
export function mergeLock(previous: readonly LockEntry[], next: readonly LockEntry[]): { entries: LockEntry[]; changes: LockChanges } {
  const changes: LockChanges = { added: [], changed: [], kept: [], unchanged: [] };
  const nextProjects = new Set(next.map((e) => e.project));
  const entries = [...previous.filter((e) => !nextProjects.has(e.project)), ...next];
  for (const e of sortEntries(previous.filter((p) => !nextProjects.has(p.project)))) changes.kept.push(pinText(e));
  for (const project of [...nextProjects].sort()) {
    const before = sortEntries(previous.filter((e) => e.project === project));
    const after = sortEntries(next.filter((e) => e.project === project));
    if (before.length === 0) appendAll(changes.added, after.map(pinText));
    else if (sameEntries(before, after)) appendAll(changes.unchanged, after.map(pinText));
    else changes.changed.push({ project, from: before.map(pinText), to: after.map(pinText) });
  }
  return { entries: sortEntries(entries), changes };
}
