// Write a deterministic synthetic mirror (the layout of docs/mirror-layout.md, without index files) for the mirror benchmarks.
//   node dist/bench/make-synthetic-mirror.js --size small|large OUT_DIR
//   node dist/bench/make-synthetic-mirror.js --add-project NAME OUT_DIR
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeNoisePool } from './synthetic/random.js';
import { isValidProjectName, normalizeProjectName } from '../src/pypi/project-name.js';
import { planExtraProject, planSyntheticMirror, type MirrorSize, type SyntheticProject } from './synthetic/plan-synthetic-mirror.js';
import { renderSyntheticDist } from './synthetic/render-synthetic-dist.js';

// Big enough for the largest file (8 MB); every file's noise is a slice of it.
const POOL_BYTES = 16 * 1024 * 1024;
const POOL_SEED = 'dib-pypi-synthetic-noise';
const USAGE = 'usage: make-synthetic-mirror --size small|large OUT_DIR | --add-project NAME OUT_DIR';

class UsageError extends Error {}

interface Request {
  dir: string;
  size?: MirrorSize;
  addProject?: string;
}

function parseRequest(argv: string[]): Request {
  const { values, positionals } = parseArgs({ args: argv, options: { size: { type: 'string' }, 'add-project': { type: 'string' } }, allowPositionals: true });
  const [dir, ...extra] = positionals;
  if (dir === undefined || extra.length > 0) throw new UsageError(`expected one OUT_DIR, got ${positionals.length}\n${USAGE}`);
  const size = values.size;
  const addProject = values['add-project'];
  if ((size === undefined) === (addProject === undefined)) throw new UsageError(`give exactly one of --size and --add-project\n${USAGE}`);
  if (size !== undefined && size !== 'small' && size !== 'large') throw new UsageError(`--size: expected small or large, got ${JSON.stringify(size)}`);
  if (addProject !== undefined && !isValidProjectName(addProject)) {
    throw new UsageError(`--add-project: not a valid project name (PEP 508): ${JSON.stringify(addProject)}`);
  }
  return { dir, size, addProject };
}

interface WriteTotals {
  projects: number;
  files: number;
  bytes: number;
}

/** The only writer: one directory per project, one file per distribution. */
function writeProjects(dir: string, projects: readonly SyntheticProject[], pool: Buffer): WriteTotals {
  const totals: WriteTotals = { projects: 0, files: 0, bytes: 0 };
  for (const project of projects) {
    const projectDir = join(dir, project.normalized);
    mkdirSync(projectDir);
    for (const file of project.files) {
      const bytes = renderSyntheticDist(file, pool);
      writeFileSync(join(projectDir, file.filename), bytes, { flag: 'wx' });
      totals.files++;
      totals.bytes += bytes.length;
    }
    totals.projects++;
  }
  return totals;
}

function run(request: Request): void {
  const start = process.hrtime.bigint();
  const pool = makeNoisePool(POOL_SEED, POOL_BYTES);
  let projects: SyntheticProject[];
  if (request.size !== undefined) {
    if (existsSync(request.dir) && readdirSync(request.dir).length > 0) throw new UsageError(`OUT_DIR is not empty: ${request.dir}`);
    mkdirSync(request.dir, { recursive: true });
    projects = planSyntheticMirror(request.size, POOL_BYTES);
  } else {
    const name = request.addProject as string;
    if (!existsSync(request.dir)) throw new UsageError(`OUT_DIR does not exist: ${request.dir}`);
    if (existsSync(join(request.dir, normalizeProjectName(name))))
      throw new UsageError(`project already in the mirror: ${join(request.dir, normalizeProjectName(name))}`);
    projects = [planExtraProject(name, POOL_BYTES)];
  }
  const totals = writeProjects(request.dir, projects, pool);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const mib = (totals.bytes / 1024 / 1024).toFixed(1);
  console.log(`wrote files=${totals.files} projects=${totals.projects} bytes=${totals.bytes} (${mib} MiB) seconds=${seconds.toFixed(2)} dir=${request.dir}`);
}

try {
  run(parseRequest(process.argv.slice(2)));
} catch (error) {
  const isUsage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true;
  console.error(`make-synthetic-mirror: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = isUsage ? 2 : 1;
}
