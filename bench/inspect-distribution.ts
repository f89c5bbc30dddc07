// Benchmark: inspectDistribution per file, against hashing the same files alone (readFile + sha256), alternating in the same run (a ratio, not a time).
//   node dist/bench/inspect-distribution.js [--wheels N] [--synthetic small|large]
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseDistFilename } from '../src/pypi/dist-filename.js';
import { inspectDistribution } from '../src/mirror/inspect/inspect-distribution.js';
import { makeSdist, makeWheel } from '../test/helpers/make-dist.js';

const RUNS = 5;

interface Corpus {
  name: string;
  paths: string[];
}

async function hashOnly(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

async function inspect(path: string): Promise<unknown> {
  const filename = parseDistFilename(path.slice(path.lastIndexOf('/') + 1));
  if (filename === undefined) throw new Error(`not a distribution: ${path}`);
  return inspectDistribution(path, filename);
}

/** Run `work` over every path with `concurrency` workers; wall time in ms. */
async function timeOnce(paths: string[], concurrency: number, work: (path: string) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < paths.length) await work(paths[next++] as string);
    }),
  );
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** The peer and us alternate, RUNS times each (this machine's speed drifts); medians in ms. */
async function timePair(paths: string[], concurrency: number): Promise<{ hashMs: number; inspectMs: number }> {
  const hashes: number[] = [];
  const inspects: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    hashes.push(await timeOnce(paths, concurrency, hashOnly));
    inspects.push(await timeOnce(paths, concurrency, inspect));
  }
  return { hashMs: median(hashes), inspectMs: median(inspects) };
}

async function makeSmallWheels(dir: string, count: number): Promise<Corpus> {
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const spec = { name: `bench-pkg-${i}`, version: `1.${i % 7}.0`, requires: ['requests>=2', 'attrs ; extra == "x"'], requiresPython: '>=3.8' };
    paths.push(await makeWheel(dir, spec));
  }
  return { name: `${count} small make-dist wheels`, paths };
}

function makeSyntheticMirror(dir: string, size: string): Corpus {
  const script = fileURLToPath(new URL('./make-synthetic-mirror.js', import.meta.url));
  execFileSync(process.execPath, [script, '--size', size, dir], { stdio: 'ignore' });
  const paths = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((p) => parseDistFilename(p.slice(p.lastIndexOf('/') + 1)) !== undefined)
    .map((p) => join(dir, p))
    .sort();
  return { name: `synthetic ${size} mirror (${paths.length} wheels and sdists)`, paths };
}

async function report(corpus: Corpus): Promise<void> {
  const n = corpus.paths.length;
  console.log(`${corpus.name}:`);
  for (const concurrency of [1, 4]) {
    const { hashMs, inspectMs } = await timePair(corpus.paths, concurrency);
    const perFile = (ms: number) => `${((ms * 1000) / n).toFixed(0)} µs/file`;
    console.log(
      `  concurrency ${concurrency}: inspect ${inspectMs.toFixed(0)} ms (${perFile(inspectMs)}), hash only ${hashMs.toFixed(0)} ms (${perFile(hashMs)}), ratio ${(inspectMs / hashMs).toFixed(2)}`,
    );
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { wheels: { type: 'string', default: '10000' }, synthetic: { type: 'string', default: 'small' } } });
  const work = mkdtempSync(join(tmpdir(), 'dib-pypi-bench-inspect-'));
  try {
    await report(await makeSmallWheels(join(work, 'wheels'), Number(values.wheels)));
    const sdists = join(work, 'sdists');
    const sdistPaths = Array.from({ length: 1000 }, (_, i) => makeSdist(sdists, { name: `bench-sdist-${i}`, version: '1.0' }));
    await report({ name: '1000 small make-dist sdists (.tar.gz)', paths: sdistPaths });
    await report(makeSyntheticMirror(join(work, 'synthetic'), values.synthetic as string));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
