// Benchmark: what `dib-pypi exec --mirror DIR -- true` adds to the command it runs, against a bare `node -e ''` start
// measured in the same run (a ratio, not a time): (exec -- true minus true alone) / node -e ''.
//   node dist/bench/exec.js [--runs N]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { envWithoutPip } from '../test/helpers/python.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url)); // dist/bench/ -> the repository
const CLI = join(REPO, 'bin', 'dib-pypi.cjs');
const WARMUPS = 3;
const TARGET_RATIO = 1.5;

class CommandError extends Error {}
class UsageError extends Error {}

/** Run FILE ARGS and return its wall time in ms; a non-zero exit is a failed benchmark. */
function time(file: string, args: string[], env: NodeJS.ProcessEnv): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(file, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0)
    throw new CommandError(`${file} ${args.join(' ')} failed (${result.error ?? `exit ${result.status ?? result.signal}`}):\n${result.stderr}`);
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

function parseRuns(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { runs: { type: 'string', default: '20' } } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`--runs: expected a positive integer, got ${JSON.stringify(values.runs)}`);
  return runs;
}

function bench(work: string, runs: number): void {
  // exec needs only a directory for --mirror: pip is not run, so the mirror's content does not matter.
  const mirror = join(work, 'mirror');
  mkdirSync(mirror);
  const env = envWithoutPip(process.env);
  const TRUE = '/bin/true';
  const sides: [string, () => number][] = [
    ['exec', () => time(process.execPath, ['--', CLI, 'exec', '--mirror', mirror, '--', TRUE], env)],
    ['node', () => time(process.execPath, ['-e', ''], env)],
    ['true', () => time(TRUE, [], env)],
  ];
  const times: Record<string, number[]> = { exec: [], node: [], true: [] };
  for (let i = 0; i < WARMUPS + runs; i++) {
    // Interleaved, the order rotating every run, so all three share the machine's noise.
    for (let k = 0; k < sides.length; k++) {
      const [name, run] = sides[(i + k) % sides.length] as [string, () => number];
      const ms = run();
      if (i >= WARMUPS) times[name]?.push(ms);
    }
  }
  const [exec, node, bare] = [times.exec ?? [], times.node ?? [], times.true ?? []];
  console.log(`dib-pypi exec --mirror DIR -- true (${runs} runs after ${WARMUPS} warm-ups, node ${process.version})`);
  console.log(`  exec -- true   ${describe(exec)}`);
  console.log(`  node -e ''     ${describe(node)}`);
  console.log(`  true           ${describe(bare)}`);
  const added = median(exec) - median(bare);
  const ratio = added / median(node);
  console.log(`exec adds ${added.toFixed(1)} ms to true; / node -e '': ${ratio.toFixed(2)} (target <= ${TARGET_RATIO.toFixed(2)})`);
  console.log(`exec -- true / node -e '': ${(median(exec) / median(node)).toFixed(2)}`);
}

const work = mkdtempSync(join(tmpdir(), 'dib-pypi-bench-exec-'));
try {
  bench(work, parseRuns(process.argv.slice(2)));
} catch (error) {
  console.error(error instanceof CommandError || error instanceof UsageError ? error.message : error);
  process.exitCode = error instanceof UsageError ? 2 : 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
