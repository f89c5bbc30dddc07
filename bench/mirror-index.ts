// Benchmark: `dib-pypi mirror index` on a synthetic mirror, against the floor (bench/index-floor.sh)
// measured in the same run, on the same disk, interleaved; then re-indexes after adding one project.
//   node dist/bench/mirror-index.js [--size large|small] [--runs N] [--cache cold|warm] [--work-dir DIR] [--keep] [--dir2pi PIP2PI_CHECKOUT]
// With --dir2pi (a checkout of github.com/wolever/pip2pi, never part of this repository), pip2pi's dir2pi
// indexes a flat copy (hard links) of the same files in the same cache mode, as the peer users know.
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { $ } from 'zx';
import { CommandError, GNU_TIME, runChecked, runMeasured, type Measured } from './measure/run-measured.js';
import { listFileSizes, producedFiles, renderProducedList } from './measure/tree-sizes.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url)); // dist/bench/ -> the repository
const CLI = join(REPO, 'bin', 'dib-pypi.cjs');
const GENERATOR = join(REPO, 'dist', 'bench', 'make-synthetic-mirror.js');
const FLOOR = join(REPO, 'bench', 'index-floor.sh');
const TARGET_RATIO = 1.5;
const TARGET_REINDEX = 0.02;
const TARGET_RSS_BYTES = 300e6;

class UsageError extends Error {}

type CacheMode = 'cold' | 'warm';

interface Options {
  size: 'small' | 'large';
  runs: number;
  cache: CacheMode;
  workDir: string;
  isKept: boolean;
  dir2pi?: string;
}

function canDropCaches(): boolean {
  return $.sync({ nothrow: true, quiet: true })`sync && echo 3 > /proc/sys/vm/drop_caches`.ok;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      size: { type: 'string', default: 'large' },
      runs: { type: 'string', default: '3' },
      cache: { type: 'string' },
      'work-dir': { type: 'string', default: '/var/tmp' },
      keep: { type: 'boolean', default: false },
      dir2pi: { type: 'string' },
    },
  });
  const size = values.size;
  if (size !== 'small' && size !== 'large') throw new UsageError(`--size: expected small or large, got ${JSON.stringify(size)}`);
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`--runs: expected a positive integer, got ${JSON.stringify(values.runs)}`);
  const cache = values.cache ?? (canDropCaches() ? 'cold' : 'warm');
  if (cache !== 'cold' && cache !== 'warm') throw new UsageError(`--cache: expected cold or warm, got ${JSON.stringify(cache)}`);
  if (cache === 'cold' && !canDropCaches()) throw new UsageError('--cache cold: cannot write /proc/sys/vm/drop_caches (needs root); use --cache warm');
  const dir2pi = values.dir2pi;
  if (dir2pi !== undefined && !existsSync(join(dir2pi, 'libpip2pi', 'commands.py')))
    throw new UsageError(`--dir2pi: ${dir2pi} is not a pip2pi checkout (no libpip2pi/commands.py)`);
  return { size, runs, cache, workDir: values['work-dir'] as string, isKept: values.keep === true, ...(dir2pi === undefined ? {} : { dir2pi }) };
}

/** The same state before every measured step: pending writes on disk, then the page cache emptied (cold) or holding the whole mirror (warm). */
function prepareCache(mode: CacheMode, mirror: string): void {
  if (mode === 'cold') runChecked(['sh', '-c', 'sync && echo 3 > /proc/sys/vm/drop_caches']);
  else runChecked(['sh', '-c', 'sync && find "$1" -type f -print0 | xargs -0 -r cat > /dev/null', 'sh', mirror]);
}

interface FloorRun {
  seconds: number;
  detail: string;
  /** The floor's recreated tree (run with --keep), moved to the trash by the caller. */
  scratch?: string;
}

function parseFloor(output: string): FloorRun {
  const fields = new Map(
    output
      .trim()
      .split('\n')
      .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
  const seconds = Number(fields.get('floor_seconds'));
  if (!Number.isFinite(seconds)) throw new Error(`bench/index-floor.sh printed no floor_seconds:\n${output}`);
  const scratch = fields.get('scratch_dir');
  return {
    seconds,
    detail: `hash ${fields.get('hash_seconds')} + mkdir ${fields.get('mkdir_seconds')} + write ${fields.get('write_seconds')} s`,
    ...(scratch === undefined ? {} : { scratch }),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const verdict = (ok: boolean) => (ok ? 'ok' : 'MISSED');
const secondsList = (values: number[]) => values.map((s) => s.toFixed(3)).join(', ');

class MirrorBench {
  readonly mirror: string;
  readonly producedList: string;
  produced: [string, number][] = [];
  readonly fulls: Measured[] = [];
  readonly floors: FloorRun[] = [];
  readonly reindexes: Measured[] = [];
  readonly unchanged: Measured[] = [];
  readonly reindexFloors: Measured[] = [];
  readonly trash: string;
  trashed = 0;
  readonly dir2pis: Measured[] = [];

  constructor(
    readonly options: Options,
    readonly work: string,
  ) {
    this.mirror = join(work, 'mirror');
    this.trash = join(work, 'trash');
    this.producedList = join(work, 'produced.txt');
  }

  index(): Measured {
    prepareCache(this.options.cache, this.mirror);
    return runMeasured([process.execPath, '--', CLI, 'mirror', 'index', this.mirror]);
  }

  floor(): void {
    prepareCache(this.options.cache, this.mirror);
    const floor = parseFloor(runChecked(['bash', FLOOR, '--keep', this.mirror, this.producedList]));
    if (floor.scratch !== undefined) this.toTrash(floor.scratch);
    this.floors.push(floor);
  }

  /** First full run: also learns what an index run produces (the floor's input). */
  firstFull(): void {
    const before = listFileSizes(this.mirror);
    this.fulls.push(this.index());
    this.produced = producedFiles(before, listFileSizes(this.mirror));
    writeFileSync(this.producedList, renderProducedList(this.produced));
  }

  /** Back to the generator's tree: every produced file and dib-pypi's state moved out, so the next run is a full one. */
  unindex(): void {
    for (const [path] of this.produced) this.toTrash(join(this.mirror, path));
    this.toTrash(join(this.mirror, '.dib-pypi'));
  }

  /**
   * Move `path` out of the way instead of deleting it: ext4 does not hand out an inode freed in the
   * last 60 s (300 s more while its inode table block is dirty) when that block is cached, and skips
   * each such inode one by one on every allocation, so creating many files in a directory right
   * after deleting as many there costs far more system time. Whichever side ran after a deletion
   * paid for it; the trash is deleted with the work directory at the end.
   */
  toTrash(path: string): void {
    if (!existsSync(path)) return;
    mkdirSync(this.trash, { recursive: true });
    renameSync(path, join(this.trash, String(++this.trashed)));
  }

  /** pip2pi's dir2pi over a flat directory holding (hard links to) the same distribution files. */
  dir2pi(checkout: string): void {
    const flat = join(this.work, 'flat');
    rmSync(flat, { recursive: true, force: true });
    runChecked([
      'sh',
      '-c',
      'mkdir "$2" && find "$1" -mindepth 1 -maxdepth 2 -type f \\( -name "*.whl" -o -name "*.tar.gz" -o -name "*.zip" \\) -not -path "*/.dib-pypi/*" -exec ln -t "$2" {} +',
      'sh',
      this.mirror,
      flat,
    ]);
    prepareCache(this.options.cache, flat);
    const script = 'import sys; from libpip2pi.commands import dir2pi; sys.exit(dir2pi(["dir2pi", sys.argv[1]]))';
    this.dir2pis.push(runMeasured(['env', `PYTHONPATH=${checkout}`, '/usr/bin/python3', '-c', script, flat]));
    this.toTrash(flat);
  }

  run(): void {
    console.log(`generator: ${runChecked([process.execPath, GENERATOR, '--size', this.options.size, this.mirror]).trim()}`);
    // Interleaved, alternating which goes first, so index and floor share the machine's noise.
    this.firstFull();
    this.floor();
    for (let i = 1; i < this.options.runs; i++) {
      this.unindex();
      if (i % 2 === 1) this.floor();
      this.fulls.push(this.index());
      if (i % 2 === 0) this.floor();
    }
    if (this.options.dir2pi !== undefined) for (let i = 0; i < this.options.runs; i++) this.dir2pi(this.options.dir2pi);
    for (let i = 0; i < this.options.runs; i++) {
      const name = `zz-bench-added-project-${i + 1}`;
      runChecked([process.execPath, GENERATOR, '--add-project', name, this.mirror]);
      this.reindexes.push(this.index());
      if (!existsSync(join(this.mirror, name, 'index.html'))) throw new Error(`re-index did not write ${name}/index.html`);
      this.unchanged.push(this.index());
      this.reindexFloor();
    }
  }

  /**
   * What any re-index written for node pays before it does anything of its own: starting `node`, and
   * one stat of every project directory (the only way to see which changed), here by `find` in C,
   * in the same cache state as the re-index.
   */
  reindexFloor(): void {
    prepareCache(this.options.cache, this.mirror);
    this.reindexFloors.push(
      runMeasured(['sh', '-c', '"$1" -e "" && find "$2" -mindepth 1 -maxdepth 1 -printf "%T@\\n" > /dev/null', 'sh', process.execPath, this.mirror]),
    );
  }

  report(fs: string): void {
    const { options } = this;
    const full = median(this.fulls.map((m) => m.seconds));
    const floor = median(this.floors.map((f) => f.seconds));
    const reindex = median(this.reindexes.map((m) => m.seconds));
    const unchanged = median(this.unchanged.map((m) => m.seconds));
    const peakOf = (runs: Measured[]) => Math.max(...runs.map((m) => m.peakRssBytes));
    const peak = Math.max(peakOf(this.fulls), peakOf(this.reindexes), peakOf(this.unchanged));
    const producedBytes = this.produced.reduce((sum, [, size]) => sum + size, 0);
    const cache = options.cache === 'cold' ? 'page cache dropped before each step' : 'page cache warmed with the whole mirror before each step';
    console.log(
      `dib-pypi mirror index, ${options.size} synthetic mirror on ${fs} (${this.work}), ${cache}, median of ${options.runs}, node ${process.version}`,
    );
    const row = (label: string, seconds: number, runs: string, note: string) =>
      console.log(`  ${label.padEnd(27)}${seconds.toFixed(3).padStart(8)} s  [${runs}]  ${note}`);
    row(
      'full index',
      full,
      secondsList(this.fulls.map((m) => m.seconds)),
      `peak RSS ${mb(peakOf(this.fulls))}; ${this.produced.length} files produced, ${mb(producedBytes)}`,
    );
    row('floor', floor, secondsList(this.floors.map((f) => f.seconds)), this.floors.map((f) => f.detail).join('; '));
    row('re-index after +1 project', reindex, secondsList(this.reindexes.map((m) => m.seconds)), `peak RSS ${mb(peakOf(this.reindexes))}`);
    row('re-index, nothing changed', unchanged, secondsList(this.unchanged.map((m) => m.seconds)), `peak RSS ${mb(peakOf(this.unchanged))}`);
    const reindexFloor = median(this.reindexFloors.map((m) => m.seconds));
    row(
      're-index floor',
      reindexFloor,
      secondsList(this.reindexFloors.map((m) => m.seconds)),
      `node -e '' + find -printf %T@ of every project directory: ${((reindexFloor / full) * 100).toFixed(2)}% of the full index`,
    );
    console.log(`ratio full / floor: ${(full / floor).toFixed(2)} (target <= ${TARGET_RATIO.toFixed(2)}) ${verdict(full / floor <= TARGET_RATIO)}`);
    console.log(`re-index / full: ${((reindex / full) * 100).toFixed(2)}% (target < ${TARGET_REINDEX * 100}%) ${verdict(reindex / full < TARGET_REINDEX)}`);
    console.log(`peak RSS: ${mb(peak)} (target < ${mb(TARGET_RSS_BYTES)}) ${verdict(peak < TARGET_RSS_BYTES)}`);
    if (this.dir2pis.length > 0) {
      const dir2pi = median(this.dir2pis.map((m) => m.seconds));
      console.log(
        `pip2pi dir2pi (symlinks and HTML pages only: no hashes, JSON or metadata): ${dir2pi.toFixed(3)} s [${secondsList(this.dir2pis.map((m) => m.seconds))}]; full index / dir2pi: ${(full / dir2pi).toFixed(2)}`,
      );
    }
  }
}

function main(): void {
  const options = parseOptions(process.argv.slice(2));
  if (!existsSync(GNU_TIME)) throw new UsageError(`${GNU_TIME} is missing: install Debian's "time" package (apt-get install -y time)`);
  runChecked([process.execPath, '--', CLI, 'mirror', 'index', '--help']);
  const work = mkdtempSync(join(options.workDir, 'dib-pypi-bench-mirror-'));
  try {
    const fs = runChecked(['stat', '-f', '-c', '%T', work]).trim();
    if (fs === 'tmpfs' || fs === 'ramfs') console.warn(`warning: ${work} is on ${fs}, not a disk: use --work-dir on the disk the mirror will live on`);
    const bench = new MirrorBench(options, work);
    bench.run();
    bench.report(fs);
  } finally {
    if (options.isKept) console.log(`kept ${work}`);
    else {
      rmSync(work, { recursive: true, force: true });
      // The same trap for whatever runs next here: say so rather than let it skew the next benchmark.
      console.log(`removed ${work}: start the next benchmark on this file system 6 minutes from now (ext4 skips recently freed inodes)`);
    }
  }
}

try {
  main();
} catch (error) {
  console.error(error instanceof CommandError || error instanceof UsageError ? error.message : error);
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
