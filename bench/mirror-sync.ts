// Benchmark: `dib-pypi mirror sync` of a synthetic mirror served by nginx on loopback, against the floor measured
// in the same run: the same file URLs fetched by `xargs -P <jobs> curl` into a directory. Then a no-change second run,
// and one more with the root page's digest of all pages taken out (an upstream `mirror index` did not write).
//   node dist/bench/mirror-sync.js [--size large|small] [--jobs N] [--runs N] [--work-dir DIR] [--keep] [--compare CLI]
// --compare CLI: also time another build's bin/dib-pypi.cjs (a copy of bin/ + dist/ made before a change) in the same
// rounds, alternating which goes first, and print new / old (same-run A/B on a noisy shared machine).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { $ } from 'zx';
import { startNginx } from '../test/helpers/nginx.js';
import { CommandError, runChecked } from './measure/run-measured.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url)); // dist/bench/ -> the repository
const CLI = join(REPO, 'bin', 'dib-pypi.cjs');
const GENERATOR = join(REPO, 'dist', 'bench', 'make-synthetic-mirror.js');
const TARGET_RATIO = 1.3;
const TARGET_SECOND = 0.05;
// The floor's curl processes each take this many URLs (one connection reused for them, as a downloader would).
const URLS_PER_CURL = 50;

class UsageError extends Error {}

interface Options {
  size: 'small' | 'large';
  jobs: number;
  runs: number;
  workDir: string;
  isKept: boolean;
  compare?: string;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      size: { type: 'string', default: 'large' },
      jobs: { type: 'string', default: '8' },
      runs: { type: 'string', default: '1' },
      'work-dir': { type: 'string', default: '/var/tmp' },
      keep: { type: 'boolean', default: false },
      compare: { type: 'string' },
    },
  });
  if (values.size !== 'small' && values.size !== 'large') throw new UsageError(`--size: expected small or large, got ${JSON.stringify(values.size)}`);
  const jobs = Number(values.jobs);
  const runs = Number(values.runs);
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`--jobs: expected a positive integer, got ${JSON.stringify(values.jobs)}`);
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`--runs: expected a positive integer, got ${JSON.stringify(values.runs)}`);
  return {
    size: values.size,
    jobs,
    runs,
    workDir: values['work-dir'] as string,
    isKept: values.keep === true,
    ...(values.compare === undefined ? {} : { compare: values.compare }),
  };
}

/** Wall time of a command that must succeed. */
function timed(command: string[], options: { env?: NodeJS.ProcessEnv } = {}): { seconds: number; stdout: string; stderr: string } {
  const start = process.hrtime.bigint();
  const result = spawnSync(command[0] as string, command.slice(1), { encoding: 'utf8', maxBuffer: 1 << 26, env: options.env ?? process.env });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) throw new CommandError(command, result.status, `${result.stdout}\n${result.stderr}`);
  return { seconds, stdout: result.stdout, stderr: result.stderr };
}

/** Every distribution file's URL on the upstream (`<project>/<file>`). */
function fileUrls(upstream: string, base: string): string[] {
  const urls: string[] = [];
  for (const project of readdirSync(upstream, { withFileTypes: true })) {
    if (!project.isDirectory() || project.name.startsWith('.')) continue;
    for (const name of readdirSync(join(upstream, project.name))) if (/\.(whl|tar\.gz|zip)$/.test(name)) urls.push(`${base}${project.name}/${name}`);
  }
  return urls;
}

function countFiles(dir: string): number {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((p) => /\.(whl|tar\.gz|zip)$/.test(p) && !p.includes('/.')).length;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const verdict = (ok: boolean) => (ok ? 'ok' : 'MISSED');

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const work = mkdtempSync(join(options.workDir, 'dib-pypi-bench-sync-'));
  try {
    const upstream = join(work, 'upstream');
    console.log(`generator: ${runChecked([process.execPath, GENERATOR, '--size', options.size, upstream]).trim()}`);
    runChecked([process.execPath, '--', CLI, 'mirror', 'index', upstream]);
    await using nginx = await startNginx(upstream);
    const urls = fileUrls(upstream, nginx.url);
    const urlList = join(work, 'urls.txt');
    writeFileSync(urlList, urls.join('\n') + '\n');
    await $`find ${upstream} -type f -print0 | xargs -0 -r cat > /dev/null`; // upstream in the page cache for everyone
    const floorDir = join(work, 'floor');
    // The previous round's files are moved out of the way, not deleted: ext4 does not hand out an inode
    // freed in the last 60 s (300 s more while its inode table block is dirty) when that block is cached,
    // and skips each such inode on every allocation, so creating many files in a directory right after
    // deleting as many there costs far more system time. Whichever side ran after a deletion paid for
    // it. The trash goes with the work directory at the end.
    let trashed = 0;
    const toTrash = (path: string) => {
      if (!existsSync(path)) return;
      mkdirSync(join(work, 'trash'), { recursive: true });
      renameSync(path, join(work, 'trash', String(++trashed)));
    };
    const mirror = join(work, 'mirror');
    const floorCommand = [
      'sh',
      '-c',
      `xargs -P "$1" -n ${URLS_PER_CURL} curl -s --fail --remote-name-all --output-dir "$2" < "$3"`,
      'sh',
      String(options.jobs),
      floorDir,
      urlList,
    ];
    // DIB_PYPI_DEBUG_TIMING: the sync prints how long its pages + downloads part took (the rest is the re-index).
    const sync = (cli: string) =>
      timed([process.execPath, '--', cli, 'mirror', 'sync', mirror, '--upstream', nginx.url, '--jobs', String(options.jobs)], {
        env: { ...process.env, DIB_PYPI_DEBUG_TIMING: '1' },
      });
    const floors: number[] = [];
    const builds = [{ name: 'this build', cli: CLI, syncs: [] as number[], downloads: [] as number[], seconds: [] as number[], generic: [] as number[] }];
    if (options.compare !== undefined)
      builds.push({ name: `compared (${options.compare})`, cli: options.compare, syncs: [], downloads: [], seconds: [], generic: [] });
    // An upstream that is not a tree `mirror index` wrote has no digest of its pages in its root page: the
    // same tree with the root page's `meta._dib-pypi-pages` taken out, where a no-change run asks for every page.
    const root = join(upstream, 'index.json');
    const rootBytes = readFileSync(root);
    const setRoot = (bytes: Buffer | string) => {
      writeFileSync(`${root}.bench`, bytes);
      renameSync(`${root}.bench`, root);
      sleepSync(1_100); // nginx's open_file_cache_valid (1 s): until then it may serve the old page
    };
    const steps: (() => void)[] = [
      () => {
        toTrash(floorDir);
        mkdirSync(floorDir);
        runChecked(['sync']);
        floors.push(timed(floorCommand).seconds);
        if (countFiles(floorDir) !== urls.length) throw new Error(`the floor fetched ${countFiles(floorDir)} of ${urls.length} files`);
      },
      ...builds.map((build) => () => {
        toTrash(mirror);
        runChecked(['sync']);
        const first = sync(build.cli);
        build.syncs.push(first.seconds);
        build.downloads.push(Number(/timing: pages and downloads ([\d.]+) ms/.exec(first.stderr)?.[1] ?? NaN) / 1000);
        if (countFiles(mirror) !== urls.length) throw new Error(`the sync wrote ${countFiles(mirror)} of ${urls.length} files:\n${first.stdout}`);
        build.seconds.push(sync(build.cli).seconds);
        setRoot(rootBytes.toString('utf8').replace(/^\{"meta":\{"_dib-pypi-pages":"[0-9a-f]{64}",/, '{"meta":{'));
        try {
          build.generic.push(sync(build.cli).seconds);
        } finally {
          setRoot(rootBytes);
        }
      }),
    ];
    // rotate which goes first each round, so all share the machine's noise
    for (let i = 0; i < options.runs; i++) for (let k = 0; k < steps.length; k++) (steps[(i + k) % steps.length] as () => void)();
    const floor = median(floors);
    const list = (values: number[]) => values.map((s) => s.toFixed(3)).join(', ');
    console.log(
      `dib-pypi mirror sync, ${options.size} synthetic mirror (${urls.length} files) from nginx on loopback, --jobs ${options.jobs}, median of ${options.runs}, node ${process.version}`,
    );
    console.log(`  floor: xargs -P ${options.jobs} -n ${URLS_PER_CURL} curl  ${floor.toFixed(3)} s  [${list(floors)}]`);
    for (const build of builds) {
      const full = median(build.syncs);
      const again = median(build.seconds);
      console.log(`${build.name}:`);
      console.log(`  full sync (incl. re-index)  ${full.toFixed(3)} s  [${list(build.syncs)}]`);
      console.log(`    of which pages + downloads  ${median(build.downloads).toFixed(3)} s  [${list(build.downloads)}] (the rest: start-up and the re-index)`);
      const generic = median(build.generic);
      console.log(`  second run, nothing changed ${again.toFixed(3)} s  [${list(build.seconds)}]`);
      console.log(
        `  the same from an upstream without a pages digest (every page asked for) ${generic.toFixed(3)} s  [${list(build.generic)}] = ${((generic / full) * 100).toFixed(2)}% of the full run`,
      );
      console.log(`  ratio full / floor: ${(full / floor).toFixed(2)} (target <= ${TARGET_RATIO}) ${verdict(full / floor <= TARGET_RATIO)}`);
      console.log(`  ratio pages + downloads / floor: ${(median(build.downloads) / floor).toFixed(2)}`);
      console.log(`  second run / full: ${((again / full) * 100).toFixed(2)}% (target < ${TARGET_SECOND * 100}%) ${verdict(again / full < TARGET_SECOND)}`);
    }
    if (builds.length === 2) {
      const [a, b] = builds as [(typeof builds)[0], (typeof builds)[0]];
      const ratios = a.syncs.map((s, i) => s / (b.syncs[i] as number));
      console.log(
        `this build / compared, full sync: ${(median(a.syncs) / median(b.syncs)).toFixed(2)} (per round: ${ratios.map((r) => r.toFixed(2)).join(', ')})`,
      );
    }
  } finally {
    if (options.isKept) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof CommandError || error instanceof UsageError ? error.message : error);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
