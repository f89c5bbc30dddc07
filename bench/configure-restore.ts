// Benchmark: `dib-pypi configure` + `restore` on a real root, against a bare `node -e ''` measured in the same run (a ratio, not a time).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envWithoutPip } from '../test/helpers/python.js';
import { diffListings, listTree } from '../test/helpers/tree-listing.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url)); // dist/bench/ -> the repository
const CLI = join(REPO, 'bin', 'dib-pypi.cjs');
const WARMUPS = 3;
const RUNS = 20;
const TARGET_RATIO = 3;

class CommandError extends Error {}

/** Run `node ARGS` and return its wall time in ms; a non-zero exit is a failed benchmark. */
function timeNode(args: string[], cwd: string, env: Record<string, string>): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) {
    throw new CommandError(`node ${args.join(' ')} failed (${result.error ?? `exit ${result.status ?? result.signal}`}):\n${result.stderr}`);
  }
  return ms;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function describe(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `median ${median(values).toFixed(1)} ms (min ${sorted[0]?.toFixed(1)}, max ${sorted.at(-1)?.toFixed(1)})`;
}

function makeRoot(root: string): void {
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'root', '.pip'), { recursive: true, mode: 0o700 });
  writeFileSync(join(root, 'root', '.pip', 'pip.conf'), '[global]\ntimeout = 60\n');
  chmodSync(join(root, 'root', '.pip', 'pip.conf'), 0o600);
}

function bench(work: string): void {
  const root = join(work, 'root');
  const state = join(work, 'state');
  makeRoot(root);
  const before = listTree(root);
  const env = envWithoutPip(process.env);
  const configure = [CLI, 'configure', '--root', root, '--state-dir', state, '--mirror-url', 'file:///tmp/pypi'];
  const restore = [CLI, 'restore', '--root', root, '--state-dir', state];
  const bare = ['-e', ''];

  const pairs: number[] = [];
  const configures: number[] = [];
  const restores: number[] = [];
  const bares: number[] = [];
  for (let i = 0; i < WARMUPS + RUNS; i++) {
    // Interleaved, and alternating which goes first, so both share the machine's noise.
    const runBare = () => timeNode(bare, work, env);
    const bareFirst = i % 2 === 0 ? runBare() : undefined;
    const c = timeNode(configure, work, env);
    const r = timeNode(restore, work, env);
    const b = bareFirst ?? runBare();
    if (i < WARMUPS) continue;
    configures.push(c);
    restores.push(r);
    pairs.push(c + r);
    bares.push(b);
  }

  const diff = diffListings(before, listTree(root));
  console.log(`dib-pypi configure + restore on a real root (${RUNS} runs after ${WARMUPS} warm-ups, node ${process.version})`);
  console.log(`  configure            ${describe(configures)}`);
  console.log(`  restore              ${describe(restores)}`);
  console.log(`  configure + restore  ${describe(pairs)}`);
  console.log(`  node -e ''           ${describe(bares)}`);
  console.log(`root byte-identical after the loop: ${diff.length === 0 ? 'yes' : `NO\n${diff.join('\n')}`}`);
  const ratio = median(pairs) / median(bares);
  console.log(`ratio configure+restore / node -e '': ${ratio.toFixed(2)} (target <= ${TARGET_RATIO.toFixed(2)})`);
}

const work = mkdtempSync(join(tmpdir(), 'dib-pypi-bench-'));
try {
  bench(work);
} catch (error) {
  console.error(error instanceof CommandError ? error.message : error);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
