// Benchmark: `dib-pypi mirror export` of a lock of N projects from the synthetic mirror, against the floor measured in
// the same run: `cp -al` of the same files (hard links, nothing hashed or indexed); and `--copy` against `cp -a`. A bare
// `node -e ''` in the same rounds tells node's start, a fixed cost of every command, from the export's own work.
//   node dist/bench/mirror-export.js [--size large|small] [--packages N] [--runs N] [--work-dir DIR] [--keep]
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseDistFilename } from '../src/pypi/dist-filename.js';
import { renderLock, type LockEntry } from '../src/pypi/lock-file.js';
import { CommandError, runChecked } from './measure/run-measured.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url)); // dist/bench/ -> the repository
const CLI = join(REPO, 'bin', 'dib-pypi.cjs');
const GENERATOR = join(REPO, 'dist', 'bench', 'make-synthetic-mirror.js');

class UsageError extends Error {}

interface Options {
  size: 'small' | 'large';
  packages: number;
  runs: number;
  workDir: string;
  isKept: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      size: { type: 'string', default: 'large' },
      packages: { type: 'string', default: '200' },
      runs: { type: 'string', default: '5' },
      'work-dir': { type: 'string', default: '/var/tmp' },
      keep: { type: 'boolean', default: false },
    },
  });
  if (values.size !== 'small' && values.size !== 'large') throw new UsageError(`--size: expected small or large, got ${JSON.stringify(values.size)}`);
  const packages = Number(values.packages);
  const runs = Number(values.runs);
  if (!Number.isInteger(packages) || packages < 1) throw new UsageError(`--packages: expected a positive integer, got ${JSON.stringify(values.packages)}`);
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`--runs: expected a positive integer, got ${JSON.stringify(values.runs)}`);
  return { size: values.size, packages, runs, workDir: values['work-dir'] as string, isKept: values.keep === true };
}

/**
 * A lock of `count` projects spread over the mirror (every k-th in name order, so over many index shards), each pinned
 * to its version with the most files, with every file of that version. Returns the lock's text and the files' paths.
 */
function makeLock(mirror: string, count: number): { text: string; files: string[] } {
  const projects = readdirSync(mirror, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
  if (projects.length < count) throw new UsageError(`--packages: the mirror has only ${projects.length} projects`);
  const step = Math.floor(projects.length / count);
  const entries: LockEntry[] = [];
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const project = projects[i * step] as string;
    const byVersion = new Map<string, string[]>();
    for (const file of readdirSync(join(mirror, project)).sort()) {
      const parsed = parseDistFilename(file);
      if (parsed === undefined) continue;
      byVersion.set(parsed.version, [...(byVersion.get(parsed.version) ?? []), file]);
    }
    const [version, versionFiles] = [...byVersion].reduce((best, next) => (next[1].length > best[1].length ? next : best));
    const paths = versionFiles.map((file) => `${project}/${file}`);
    const sha256 = paths
      .map((path) =>
        createHash('sha256')
          .update(readFileSync(join(mirror, path)))
          .digest('hex'),
      )
      .sort();
    entries.push({ project, version, targets: [], sha256 });
    files.push(...paths);
  }
  return { text: renderLock(entries, []), files };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const list = (values: number[]) => values.map((v) => v.toFixed(3)).join(', ');

/** Seconds `command` took; its output directory is removed afterwards (outside the timing). */
function timed(command: string[], out: string, cwd?: string): number {
  const start = process.hrtime.bigint();
  runChecked(command, cwd === undefined ? {} : { cwd });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  rmSync(out, { recursive: true, force: true });
  return seconds;
}

function bench(work: string, options: Options): void {
  const mirror = join(work, 'mirror');
  console.log(`generator: ${runChecked([process.execPath, GENERATOR, '--size', options.size, mirror]).trim()}`);
  runChecked([process.execPath, '--', CLI, 'mirror', 'index', mirror, '--quiet']);
  const lock = join(work, 'requirements.lock');
  const { text, files } = makeLock(mirror, options.packages);
  writeFileSync(lock, text);
  const out = join(work, 'out');
  // cp --parents keeps <project>/<file> under the target, as the export lays them out; one process for all files.
  const cp = (flags: string) => {
    mkdirSync(out);
    return timed(['cp', flags, '--parents', ...files, out], out, mirror);
  };
  const sides: [string, () => number][] = [
    ['export', () => timed([process.execPath, '--', CLI, 'mirror', 'export', lock, out, '--from', mirror], out)],
    ['cp -al', () => cp('-al')],
    ['export --copy', () => timed([process.execPath, '--', CLI, 'mirror', 'export', lock, out, '--from', mirror, '--copy'], out)],
    ['cp -a', () => cp('-a')],
    // Node's start alone, to tell the fixed cost of any dib-pypi command from the export's work.
    ['node -e', () => timed([process.execPath, '-e', ''], out)],
  ];
  // One warm-up round reads every file into the page cache: all sides then run warm.
  for (const [, run] of sides) run();
  const times = new Map<string, number[]>(sides.map(([name]) => [name, []]));
  for (let i = 0; i < options.runs; i++) {
    // Interleaved, the order rotating every round, so all sides share the machine's noise.
    for (let k = 0; k < sides.length; k++) {
      const [name, run] = sides[(i + k) % sides.length] as [string, () => number];
      times.get(name)?.push(run());
    }
  }
  const m = (name: string) => median(times.get(name) ?? []);
  console.log(
    `dib-pypi mirror export, ${options.size} synthetic mirror, a lock of ${options.packages} projects (${files.length} files), median of ${options.runs}, warm cache, node ${process.version}`,
  );
  for (const [name] of sides) console.log(`  ${name.padEnd(14)} ${m(name).toFixed(3)} s  [${list(times.get(name) ?? [])}]`);
  console.log(`ratio export / cp -al:        ${(m('export') / m('cp -al')).toFixed(2)}`);
  console.log(`ratio export --copy / cp -a:  ${(m('export --copy') / m('cp -a')).toFixed(2)}`);
  console.log(`export less node's start: ${(m('export') - m('node -e')).toFixed(3)} s; --copy: ${(m('export --copy') - m('node -e')).toFixed(3)} s`);
}

let work: string | undefined;
try {
  const options = parseOptions(process.argv.slice(2));
  work = mkdtempSync(join(options.workDir, 'dib-pypi-bench-export-'));
  bench(work, options);
  if (options.isKept) console.log(`kept: ${work}`);
  else rmSync(work, { recursive: true, force: true });
} catch (error) {
  console.error(error instanceof UsageError || error instanceof CommandError ? error.message : error);
  process.exitCode = error instanceof UsageError ? 2 : 1;
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
}
