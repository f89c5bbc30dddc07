// `mirror add`: flags -> one validated plan (targets, the pip argv of every run). Pure: no disk, no process.
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError, UsageError } from '../../errors.js';
import { AT_AFTER_AUTHORITY, hasAtAfterAuthority, redact } from '../../redact.js';

/** What the caller asks for; paths may be relative to `cwd`. */
export interface AddInput {
  dir: string;
  requirementFiles: string[];
  requirements: string[];
  python: string;
  indexUrl?: string | undefined;
  extraIndexUrls: string[];
  findLinks: string[];
  trustedHosts: string[];
  noIndex: boolean;
  pythonVersions: string[];
  /** Each value is one target; a comma-separated value is one target with several platform tags. */
  platforms: string[];
  implementation?: string | undefined;
  abis: string[];
  onlyBinary: string[];
  noBinary: string[];
  buildWheels: boolean;
  noBuildIsolation: boolean;
  pre: boolean;
  noCacheDir: boolean;
  /** Where to write the lock file; undefined: no lock. */
  lockFile?: string | undefined;
}

/** One `pip download` run: the interpreter pip pretends to be. */
export interface Target {
  /** `native`, `py3.9`, `win_amd64`, `py3.9-manylinux2014_x86_64`, ... */
  label: string;
  /** As given (`3.9`, `39`, `3.9.1`); undefined: the interpreter's own. */
  pythonVersion?: string;
  /** Platform tags; empty: the interpreter's own. */
  platforms: string[];
  /** The target flags passed to pip. */
  pipArgs: string[];
}

export interface AddPlan {
  dir: string;
  python: string;
  targets: Target[];
  /** True when any target differs from the running interpreter (pip then takes wheels only). */
  isForeign: boolean;
  /** We added `--only-binary=:all:` because pip requires it for foreign targets. */
  addedOnlyBinary: boolean;
  /** pip options every run shares (index, binary, build, cache). */
  indexArgs: string[];
  downloadArgs: string[];
  /** `-r FILE ... PKG ...`, files absolute. */
  requirementArgs: string[];
  requirementFiles: string[];
  buildWheels: boolean;
  buildArgs: string[];
  lockFile?: string;
}

// pip's --python-version: "3", "3.7", "3.7.3", or without dots "37", "311" (pip/_internal/cli/cmdoptions.py _convert_python_version).
const PYTHON_VERSION = /^(\d+(\.\d+){0,2}|\d{2,3})$/;
// Platform tags (PEP 425 / 600): lower-case letters, digits, `_` and `.` (`manylinux_2_17_x86_64`, `macosx_11_0_arm64`).
const PLATFORM = /^[A-Za-z0-9_.]+$/;
const IMPLEMENTATION = /^[a-z]{2}$/;
const ABI = /^[A-Za-z0-9_]+$/;
// What `--only-binary` / `--no-binary` take: `:all:`, `:none:` or project names, comma-separated.
const FORMAT_CONTROL = /^(:all:|:none:|[A-Za-z0-9][A-Za-z0-9._-]*)(,(:all:|:none:|[A-Za-z0-9][A-Za-z0-9._-]*))*$/;

/** `3.11` from `3.11`, `311`, `3.11.2`; undefined when the value names no minor version (`3`). */
export function pythonMinorVersion(raw: string): string | undefined {
  if (raw.includes('.')) {
    const [major, minor] = raw.split('.');
    return minor === undefined ? undefined : `${Number(major)}.${Number(minor)}`;
  }
  return raw.length >= 2 ? `${raw[0]}.${Number(raw.slice(1))}` : undefined;
}

function checkEach(values: string[], pattern: RegExp, input: string, what: string): void {
  for (const value of values) {
    if (!pattern.test(value)) throw new InputError(input, `not ${what}: ${JSON.stringify(value)}`);
  }
}

/** An index URL as pip takes it: http(s):// or file://; a directory path becomes a file:// URL. A bad one is an InputError of `input`. */
export function indexUrlArg(raw: string, input: string, cwd: string): string {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(raw)) {
    const shown = JSON.stringify(redact(raw));
    if (hasAtAfterAuthority(raw)) throw new InputError(input, `${AT_AFTER_AUTHORITY}: ${shown}`);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new InputError(input, `not a URL: ${shown}`);
    }
    if (!['http:', 'https:', 'file:'].includes(url.protocol)) throw new InputError(input, `pip cannot read ${url.protocol}// indexes: ${shown}`);
    return raw;
  }
  if (raw === '') throw new InputError(input, 'empty value');
  return pathToFileURL(resolve(cwd, raw)).href;
}

function targetLabel(implementation: string | undefined, pythonVersion: string | undefined, platforms: string[]): string {
  const parts: string[] = [];
  if (pythonVersion !== undefined) parts.push(`${implementation ?? 'py'}${pythonVersion}`);
  else if (implementation !== undefined) parts.push(implementation);
  if (platforms.length > 0) parts.push(platforms.join('+'));
  return parts.length === 0 ? 'native' : parts.join('-');
}

/** One target per (python version x platform) combination; implementation and ABIs go to every run. */
export function buildTargets(input: Pick<AddInput, 'pythonVersions' | 'platforms' | 'implementation' | 'abis'>): Target[] {
  checkEach(input.pythonVersions, PYTHON_VERSION, 'python-version', 'a Python version (3.11, 311, 3.11.2)');
  const platformSets = input.platforms.map((value) => value.split(','));
  for (const set of platformSets) checkEach(set, PLATFORM, 'platform', 'a platform tag (manylinux2014_x86_64, win_amd64)');
  if (input.implementation !== undefined) checkEach([input.implementation], IMPLEMENTATION, 'implementation', 'a Python implementation (cp, pp, py)');
  checkEach(input.abis, ABI, 'abi', 'an ABI tag (cp311, abi3, none)');
  const versions = input.pythonVersions.length > 0 ? [...new Set(input.pythonVersions)] : [undefined];
  const platforms = platformSets.length > 0 ? platformSets : [[]];
  const shared = [...(input.implementation === undefined ? [] : ['--implementation', input.implementation]), ...input.abis.flatMap((abi) => ['--abi', abi])];
  const targets: Target[] = [];
  for (const version of versions) {
    for (const set of platforms) {
      const pipArgs = [...(version === undefined ? [] : ['--python-version', version]), ...set.flatMap((p) => ['--platform', p]), ...shared];
      const label = targetLabel(input.implementation, version, set);
      if (targets.some((t) => t.label === label)) continue;
      targets.push({ label, ...(version === undefined ? {} : { pythonVersion: version }), platforms: set, pipArgs });
    }
  }
  return targets;
}

/**
 * pip refuses foreign targets unless only wheels are used (pip/_internal/cli/cmdoptions.py check_dist_restriction).
 * The messages name pip's own options, which `mirror add` passes to pip under the same names.
 */
function binaryArgs(input: AddInput, isForeign: boolean): { args: string[]; addedOnlyBinary: boolean } {
  checkEach(input.onlyBinary, FORMAT_CONTROL, 'only-binary', ':all:, :none: or project names');
  checkEach(input.noBinary, FORMAT_CONTROL, 'no-binary', ':all:, :none: or project names');
  const args = [...input.onlyBinary.map((v) => `--only-binary=${v}`), ...input.noBinary.map((v) => `--no-binary=${v}`)];
  if (!isForeign) return { args, addedOnlyBinary: false };
  if (input.noBinary.some((v) => v !== ':none:')) {
    throw new InputError(
      'no-binary',
      'cannot take sdists for --python-version, --platform, --implementation or --abi targets (pip needs --only-binary=:all: there)',
    );
  }
  if (input.onlyBinary.length === 0) return { args: ['--only-binary=:all:', ...args], addedOnlyBinary: true };
  if (!input.onlyBinary.some((v) => v.split(',').includes(':all:'))) {
    throw new InputError(
      'only-binary',
      '--python-version, --platform, --implementation and --abi targets need --only-binary=:all: (or no --only-binary: dib-pypi adds it)',
    );
  }
  return { args, addedOnlyBinary: false };
}

function indexArgs(input: AddInput, cwd: string): string[] {
  const args: string[] = [];
  if (input.indexUrl !== undefined) args.push('--index-url', indexUrlArg(input.indexUrl, 'index-url', cwd));
  for (const url of input.extraIndexUrls) args.push('--extra-index-url', indexUrlArg(url, 'extra-index-url', cwd));
  for (const link of input.findLinks) {
    if (link === '') throw new InputError('find-links', 'empty value');
    if (hasAtAfterAuthority(link)) throw new InputError('find-links', `${AT_AFTER_AUTHORITY}: ${JSON.stringify(redact(link))}`);
    // pip takes a URL or a path; paths are made absolute so they do not depend on pip's working directory.
    args.push('--find-links', /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(link) ? link : resolve(cwd, link));
  }
  checkEach(input.trustedHosts, /^[^\s/]+$/, 'trusted-host', 'a host[:port]');
  for (const host of input.trustedHosts) args.push('--trusted-host', host);
  if (input.noIndex) args.push('--no-index');
  return args;
}

/** Validate `input` and turn it into the pip runs `mirror add` makes. Throws an InputError named as pip's option (`platform`), or a UsageError. */
export function planAdd(input: AddInput, cwd: string): AddPlan {
  if (input.dir === '') throw new UsageError('empty mirror directory', 'mirror add');
  if (input.requirementFiles.length === 0 && input.requirements.length === 0) {
    throw new UsageError('nothing to add: give -r FILE or requirement specifiers (PKG...)', 'mirror add');
  }
  for (const spec of input.requirements) {
    if (spec.trim() === '' || spec.startsWith('-')) throw new UsageError(`not a requirement: ${JSON.stringify(spec)}`, 'mirror add');
  }
  if (input.python === '') throw new InputError('python', 'empty value');
  const targets = buildTargets(input);
  const isForeign = input.pythonVersions.length + input.platforms.length + input.abis.length > 0 || input.implementation !== undefined;
  const binary = binaryArgs(input, isForeign);
  const index = indexArgs(input, cwd);
  const requirementFiles = input.requirementFiles.map((file) => resolve(cwd, file));
  const build = [...(input.noBuildIsolation ? ['--no-build-isolation'] : []), ...(input.noCacheDir ? ['--no-cache-dir'] : [])];
  const plan: AddPlan = {
    dir: resolve(cwd, input.dir),
    python: input.python,
    targets,
    isForeign,
    addedOnlyBinary: binary.addedOnlyBinary,
    indexArgs: index,
    downloadArgs: [...binary.args, ...(input.pre ? ['--pre'] : []), ...build],
    requirementArgs: [...requirementFiles.flatMap((file) => ['-r', file]), ...input.requirements],
    requirementFiles,
    buildWheels: input.buildWheels,
    buildArgs: build,
  };
  if (input.lockFile !== undefined) plan.lockFile = isAbsolute(input.lockFile) ? input.lockFile : resolve(cwd, input.lockFile);
  return plan;
}

/** Options before the pip subcommand: no config file, no PIP_* variable, no prompt, no version check. */
export const PIP_GLOBAL_ARGS = ['-m', 'pip', '--isolated', '--disable-pip-version-check', '--no-input', '--no-color'];

/** `python -m pip download` for one target into `dest`. */
export function downloadArgv(plan: AddPlan, target: Target, dest: string): string[] {
  return [
    ...PIP_GLOBAL_ARGS,
    'download',
    '--dest',
    dest,
    '--progress-bar',
    'off',
    ...plan.indexArgs,
    ...target.pipArgs,
    ...plan.downloadArgs,
    ...plan.requirementArgs,
  ];
}

/** `python -m pip wheel` for downloaded sdists into `dest`: no dependencies (they were downloaded too). */
export function wheelArgv(plan: AddPlan, sdists: string[], dest: string): string[] {
  return [...PIP_GLOBAL_ARGS, 'wheel', '--no-deps', '--wheel-dir', dest, '--progress-bar', 'off', ...plan.indexArgs, ...plan.buildArgs, ...sdists];
}
