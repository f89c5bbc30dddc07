// The lock file `mirror add` writes: pip `--require-hashes` format, one pin per resolved project and version. Pure.
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

/** The lock file's text: a header saying how to use it, then `name==version [; marker] \` and one `--hash` line per file. */
export function renderLock(entries: readonly LockEntry[], envs: readonly TargetEnvironment[], fileName = 'requirements.lock'): string {
  const header = [
    '# Written by `dib-pypi mirror add`: every project it resolved, pinned, with the sha256 of every',
    '# file of that version in the mirror, so the same lock installs on each target. Install with',
    `#   pip install --require-hashes --index-url file:///tmp/pypi -r ${fileName}`,
    `# Targets: ${envs.map(describeTarget).join('; ')}`,
  ];
  const blocks = entries.map((entry) => {
    const head = `${entry.project}==${entry.version}${entry.marker === undefined ? '' : ` ; ${entry.marker}`}`;
    return [head, ...entry.sha256.map((sha) => `    --hash=sha256:${sha}`)].join(' \\\n');
  });
  return [...header, ...blocks].join('\n') + '\n';
}
