// What the synthetic mirror holds (pure): projects, releases, distribution file names, metadata
// and how many noise bytes each file carries. Rendering and writing are elsewhere.
import { normalizeProjectName } from '../../src/pypi/project-name.js';
import { createRandom, type Random } from './random.js';

export type MirrorSize = 'small' | 'large';

export interface SizeProfile {
  files: number;
  projects: number;
  /** Files of several MB (2-8 MB each), like the few big binary wheels of a real mirror. */
  bigFiles: number;
  /** Total bytes the distribution files should add up to, roughly. */
  totalBytes: number;
}

export const PROFILES: Record<MirrorSize, SizeProfile> = {
  small: { files: 1_000, projects: 125, bigFiles: 1, totalBytes: 13_000_000 },
  large: { files: 40_000, projects: 5_000, bigFiles: 24, totalBytes: 500_000_000 },
};

export interface SyntheticFile {
  filename: string;
  kind: 'wheel' | 'sdist';
  /** The name as the metadata spells it (normalises to the project's directory name). */
  displayName: string;
  version: string;
  /** Wheels: the `python-abi-platform` tag of the file name. */
  tag?: string;
  /** METADATA (wheel) or PKG-INFO (sdist), core metadata 2.1. */
  metadata: string;
  /** How many bytes of incompressible noise the file carries, and where in the pool they start. */
  noiseBytes: number;
  noiseOffset: number;
}

export interface SyntheticProject {
  /** PEP 503-normalised: the directory name. */
  normalized: string;
  files: SyntheticFile[];
}

const WORDS = [
  'api',
  'async',
  'auth',
  'aws',
  'bio',
  'cache',
  'cli',
  'cloud',
  'core',
  'crypto',
  'data',
  'date',
  'db',
  'django',
  'fast',
  'flask',
  'fs',
  'geo',
  'grpc',
  'html',
  'http',
  'image',
  'io',
  'json',
  'kit',
  'lib',
  'lint',
  'log',
  'map',
  'math',
  'ml',
  'mock',
  'net',
  'nlp',
  'orm',
  'path',
  'pdf',
  'plot',
  'proto',
  'py',
  'queue',
  'redis',
  'rpc',
  'sci',
  'sql',
  'ssl',
  'stat',
  'test',
  'text',
  'time',
  'tool',
  'torch',
  'ui',
  'utils',
  'vision',
  'web',
  'xml',
  'yaml',
  'zip',
];

// A pure release: one universal wheel; a binary release: wheels per interpreter and platform.
const PURE_TAGS = ['py3-none-any', 'py2.py3-none-any'];
const BINARY_TAGS = [
  'cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64',
  'cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64',
  'cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64',
  'cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64',
  'cp312-cp312-musllinux_1_1_x86_64',
  'cp311-cp311-macosx_11_0_arm64',
  'cp312-cp312-win_amd64',
];
const REQUIRES_PYTHON = ['>=3.8', '>=3.7', '>=3.9,<4', '!=3.0.*,!=3.1.*,>=2.7', '>=3.10'];
const SPECIFIERS = ['', '>=1.0', '<3,>=2.1', '~=1.4', '!=1.5.0,>=1.2', '==2.*'];
const MARKERS = ['', '', '', '; python_version < "3.11"', '; sys_platform == "linux"'];

/** Wheel file names and PEP 625 sdists: the normalised name with `_` for `-`. */
function escapeName(name: string): string {
  return normalizeProjectName(name).replaceAll('-', '_');
}

function projectNames(random: Random, count: number): string[] {
  const names = new Set<string>();
  while (names.size < count) {
    const words = Array.from({ length: random.int(1, 3) }, () => random.pick(WORDS));
    let name = words.join('-');
    if (words.length === 1 || names.has(name)) name += `-${random.int(2, 999)}`;
    names.add(name);
  }
  return [...names];
}

/** How a project spells its own name: `data-kit`, `data_kit`, `Data.Kit`, `Data-Kit`. */
function displayNameOf(random: Random, normalized: string): string {
  const words = normalized.split('-');
  const roll = random.next();
  if (roll < 0.55) return normalized;
  if (roll < 0.7) return words.join('_');
  const capitalized = words.map((w) => w.charAt(0).toUpperCase() + w.slice(1));
  return capitalized.join(roll < 0.85 ? '.' : '-');
}

/** How many files each project has: 1 to ~60, `total` in all. */
function fileCounts(random: Random, projects: number, total: number): number[] {
  const mean = total / projects;
  const counts = Array.from({ length: projects }, () => 1 + Math.floor(-Math.log(1 - random.next()) * (mean - 1)));
  let sum = counts.reduce((a, b) => a + b, 0);
  while (sum !== total) {
    const i = random.int(0, projects - 1);
    const count = counts[i] as number;
    if (sum < total) {
      counts[i] = count + 1;
      sum++;
    } else if (count > 1) {
      counts[i] = count - 1;
      sum--;
    }
  }
  return counts;
}

function versionOf(random: Random, release: number): string {
  const base = `${1 + Math.floor(release / 6)}.${release % 6}.${random.int(0, 3)}`;
  const roll = random.next();
  if (roll < 0.05) return `${base}rc1`;
  if (roll < 0.08) return `${base}.post1`;
  return base;
}

function wordsOf(random: Random, count: number): string {
  return Array.from({ length: count }, () => random.pick(WORDS)).join(' ');
}

/** Core metadata 2.1: some with Requires-Python, some with Requires-Dist (extras and markers too), some with a long description. */
function renderMetadata(random: Random, name: string, version: string, allNames: readonly string[]): string {
  const lines = ['Metadata-Version: 2.1', `Name: ${name}`, `Version: ${version}`, `Summary: ${wordsOf(random, random.int(3, 9))}`];
  lines.push(`Author: ${random.pick(WORDS)} developers`, 'License: MIT', 'Classifier: Programming Language :: Python :: 3');
  if (random.chance(0.5)) lines.push(`Requires-Python: ${random.pick(REQUIRES_PYTHON)}`);
  if (random.chance(0.4)) {
    for (let i = random.int(1, 5); i > 0; i--) lines.push(`Requires-Dist: ${random.pick(allNames)}${random.pick(SPECIFIERS)}${random.pick(MARKERS)}`);
  }
  if (random.chance(0.2)) lines.push('Provides-Extra: test', `Requires-Dist: ${random.pick(allNames)}; extra == "test"`);
  lines.push('Description-Content-Type: text/markdown', '', `# ${name}`, '');
  const paragraphs = random.chance(0.3) ? random.int(3, 30) : random.int(0, 2);
  for (let i = 0; i < paragraphs; i++) lines.push(wordsOf(random, random.int(10, 40)), '');
  return lines.join('\n') + '\n';
}

/** The files of one project, `count` of them, release after release; noise sizes are filled in later. */
function planProjectFiles(random: Random, normalized: string, count: number, allNames: readonly string[], name?: string): SyntheticFile[] {
  const displayName = name ?? displayNameOf(random, normalized);
  const escaped = escapeName(normalized);
  const isBinary = random.chance(0.2);
  const files: SyntheticFile[] = [];
  const add = (file: Omit<SyntheticFile, 'noiseBytes' | 'noiseOffset' | 'displayName'>) => {
    if (files.length < count) files.push({ ...file, displayName, noiseBytes: 0, noiseOffset: 0 });
  };
  for (let release = 0; files.length < count; release++) {
    const version = versionOf(random, release);
    const metadata = renderMetadata(random, displayName, version, allNames);
    const tags = isBinary ? BINARY_TAGS.slice(0, random.int(2, BINARY_TAGS.length)) : [random.pick(PURE_TAGS)];
    for (const tag of tags) add({ kind: 'wheel', filename: `${escaped}-${version}-${tag}.whl`, version, tag, metadata });
    if (random.chance(isBinary ? 0.9 : 0.5)) add({ kind: 'sdist', filename: `${escaped}-${version}.tar.gz`, version, metadata });
  }
  return files;
}

/** Give every file its noise: `bigFiles` of 2-8 MB, the rest log-uniform, scaled so the mirror adds up to about `totalBytes`. */
function assignSizes(random: Random, files: SyntheticFile[], profile: SizeProfile, poolBytes: number): void {
  const big = new Set<number>();
  while (big.size < Math.min(profile.bigFiles, files.length)) big.add(random.int(0, files.length - 1));
  const weights = files.map((_, i) => (big.has(i) ? 0 : random.logUniform(300, 60_000)));
  const bigSizes = files.map((_, i) => (big.has(i) ? random.int(2_000_000, 8_000_000) : 0));
  // Headers, metadata, RECORD and the like: about 1.5 KB a file beside the noise.
  const overhead = files.length * 1_500;
  const left = Math.max(0, profile.totalBytes - overhead - bigSizes.reduce((a, b) => a + b, 0));
  const scale = left / weights.reduce((a, b) => a + b, 0);
  files.forEach((file, i) => {
    file.noiseBytes = Math.min(poolBytes, big.has(i) ? (bigSizes[i] as number) : Math.round((weights[i] as number) * scale));
    file.noiseOffset = random.int(0, poolBytes - file.noiseBytes);
  });
}

/** The whole synthetic mirror for `size`, the same every time. */
export function planSyntheticMirror(size: MirrorSize, poolBytes: number): SyntheticProject[] {
  const profile = PROFILES[size];
  const random = createRandom(`dib-pypi-synthetic-mirror-${size}`);
  const names = projectNames(random, profile.projects).sort();
  const counts = fileCounts(random, names.length, profile.files);
  const projects = names.map((normalized, i) => ({ normalized, files: planProjectFiles(random, normalized, counts[i] as number, names) }));
  assignSizes(
    random,
    projects.flatMap((p) => p.files),
    profile,
    poolBytes,
  );
  return projects;
}

/** One more project named `name` (a few files, ~13 KB on average), seeded by its name. */
export function planExtraProject(name: string, poolBytes: number): SyntheticProject {
  const normalized = normalizeProjectName(name);
  const random = createRandom(`dib-pypi-synthetic-extra-${normalized}`);
  const files = planProjectFiles(random, normalized, random.int(3, 6), [normalized], name);
  const profile: SizeProfile = { files: files.length, projects: 1, bigFiles: 0, totalBytes: files.length * 13_000 };
  assignSizes(random, files, profile, poolBytes);
  return { normalized, files };
}
