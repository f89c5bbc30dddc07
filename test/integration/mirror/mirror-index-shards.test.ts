// Incremental `mirror index` with a sharded manifest: after every change of a random sequence, the
// index an incremental run leaves is byte for byte the one a full run writes from the same files;
// loose files of far-away projects, in-place edits of .yanked, removed projects and a damaged shard included.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cleanEnv, runCli } from '../../helpers/cli.js';
import { makeSdist, makeWheel, normalizeProjectName } from '../../helpers/make-dist.js';
import { makeTempDir } from '../../helpers/python.js';
import { shardOf } from '../../../src/mirror/store/manifest.js';

const GENERATED = /(^|\/)index\.(html|json)$|\.metadata$/;

/** Every file the index wrote (pages, .metadata) with its bytes, by relative path. */
function generated(root: string): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(root, rel), { withFileTypes: true })) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.name.startsWith('.')) continue;
      if (entry.isDirectory()) walk(path);
      else if (GENERATED.test(path)) found.set(path, readFileSync(join(root, path), 'latin1'));
    }
  };
  walk('');
  return found;
}

/** A fresh copy of the distribution files and sidecars only, indexed from scratch. */
function fullIndexOf(mirror: string, scratch: string): Map<string, string> {
  rmSync(scratch, { recursive: true, force: true });
  cpSync(mirror, scratch, { recursive: true, filter: (src) => !src.includes('/.dib-pypi') && !GENERATED.test(src) });
  const result = runCli(['mirror', 'index', scratch]);
  assert.ok(result.status === 0 || result.status === 1, result.stderr);
  return generated(scratch);
}

function assertSameIndex(mirror: string, scratch: string, step: string): void {
  const incremental = generated(mirror);
  const full = fullIndexOf(mirror, scratch);
  const paths = [...new Set([...incremental.keys(), ...full.keys()])].sort();
  const differing = paths.filter((path) => incremental.get(path) !== full.get(path));
  assert.deepEqual(differing, [], `${step}: the incremental index differs from a full one at ${differing.join(', ')}`);
}

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('incremental runs over a random sequence of changes give the index a full run gives', async () => {
  await using work = makeTempDir('dib-pypi-shards-');
  const mirror = join(work.path, 'mirror');
  const scratch = join(work.path, 'scratch');
  mkdirSync(mirror);
  const names = Array.from({ length: 40 }, (_, i) => `proj-${i}`); // spread over every shard
  for (const name of names.slice(0, 30)) await makeWheel(join(mirror, name), { name, version: '1.0' });
  assert.equal(runCli(['mirror', 'index', mirror]).status, 0);
  assertSameIndex(mirror, scratch, 'first run');

  const next = random(7);
  const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)] as T;
  let version = 2;
  const wheelsIn = (rel: string) => (existsSync(join(mirror, rel)) ? readdirSync(join(mirror, rel)).filter((n) => n.endsWith('.whl')) : []);
  for (let step = 0; step < 24; step++) {
    const kind = pick(['new-version', 'new-project', 'loose', 'remove-file', 'yank-new', 'yank-edit', 'unyank', 'remove-project']);
    const name = pick(names);
    let what = `${kind} ${name}`;
    if (kind === 'new-version') await makeWheel(join(mirror, name), { name, version: `${version++}.0` });
    else if (kind === 'new-project') await makeWheel(join(mirror, name), { name, version: '1.0' });
    else if (kind === 'loose')
      await makeWheel(mirror, { name, version: `${version++}.0` }); // top level, far from the project's shard
    else if (kind === 'remove-file') {
      const files = [...wheelsIn(name).map((f) => `${name}/${f}`), ...wheelsIn('').filter((f) => f.startsWith(name.replace('-', '_')))];
      if (files.length === 0) continue;
      const file = pick(files);
      rmSync(join(mirror, file));
      what += ` ${file}`;
    } else if (kind === 'yank-new' || kind === 'yank-edit' || kind === 'unyank') {
      const files = wheelsIn(name);
      if (files.length === 0) continue;
      const sidecar = join(mirror, name, `${pick(files)}.yanked`);
      if (kind === 'unyank') rmSync(sidecar, { force: true });
      else if (kind === 'yank-edit' && existsSync(sidecar)) {
        // In place: the directory's mtime stays as it was.
        const before = statSync(join(mirror, name)).mtimeMs;
        writeFileSync(sidecar, `reason ${step}\n`, { flag: 'r+' });
        assert.equal(statSync(join(mirror, name)).mtimeMs, before);
      } else writeFileSync(sidecar, `reason ${step}\n`);
    } else rmSync(join(mirror, name), { recursive: true, force: true });
    // Let the directories we touched age past the "racy" window, so later runs trust (and skip) them.
    await new Promise((done) => setTimeout(done, 120));
    const result = runCli(['mirror', 'index', mirror]);
    assert.ok(result.status === 0, `${what}: ${result.stderr}`);
    assertSameIndex(mirror, scratch, `step ${step} (${what})`);
  }
  const verify = runCli(['mirror', 'verify', mirror]);
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
});

test('a damaged or missing manifest shard makes the next run index everything, and the index is right again', async () => {
  await using work = makeTempDir('dib-pypi-shards-damaged-');
  const mirror = join(work.path, 'mirror');
  for (let i = 0; i < 20; i++) await makeWheel(join(mirror, `p${i}`), { name: `p${i}`, version: '1.0' });
  assert.equal(runCli(['mirror', 'index', mirror]).status, 0);
  const shards = readdirSync(join(mirror, '.dib-pypi', 'manifest.d'));
  assert.ok(shards.length > 8, `records spread over shards: ${shards.join(' ')}`);
  // The shard the next run needs (p3's).
  writeFileSync(join(mirror, '.dib-pypi', 'manifest.d', `${String(shardOf('p3')).padStart(2, '0')}.json`), '{"files": tru');
  await makeWheel(join(mirror, 'p3'), { name: 'p3', version: '2.0' });
  const again = runCli(['mirror', 'index', mirror, '--json']);
  assert.equal(again.status, 0, again.stderr);
  assert.equal((JSON.parse(again.stdout) as { inspected: number }).inspected, 21, 'everything re-inspected');
  assertSameIndex(mirror, join(work.path, 'scratch'), 'after a damaged shard');
  rmSync(join(mirror, '.dib-pypi', 'manifest.json'));
  assert.equal(runCli(['mirror', 'index', mirror]).status, 0);
  const verify = runCli(['mirror', 'verify', mirror]);
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
});

/** Index, then once more after the racy window: every directory is then trusted by the next run. */
async function indexAndSettle(mirror: string): Promise<void> {
  assert.equal(runCli(['mirror', 'index', mirror]).status, 0);
  await new Promise((done) => setTimeout(done, 150));
  assert.equal(runCli(['mirror', 'index', mirror]).status, 0);
}

test("a change in one project directory, with the top level trusted, keeps that project's loose top-level files on its page", async () => {
  await using work = makeTempDir('dib-pypi-shards-strays-');
  const mirror = join(work.path, 'mirror');
  for (let i = 0; i < 24; i++) await makeWheel(join(mirror, `p${i}`), { name: `p${i}`, version: '1.0' });
  await makeWheel(mirror, { name: 'p5', version: '0.5' }); // loose at the top level
  await indexAndSettle(mirror);
  await makeWheel(join(mirror, 'p5'), { name: 'p5', version: '2.0' });
  const result = runCli(['mirror', 'index', mirror, '--json']);
  assert.equal(result.status, 0, result.stderr);
  const page = readFileSync(join(mirror, 'p5', 'index.html'), 'utf8');
  for (const file of ['../p5-0.5-py3-none-any.whl', 'p5-1.0-py3-none-any.whl', 'p5-2.0-py3-none-any.whl'])
    assert.ok(page.includes(`href="${file}#sha256=`), `${file} on the page:\n${page}`);
  assertSameIndex(mirror, join(work.path, 'scratch'), 'strays');
  rmSync(join(mirror, 'p5-0.5-py3-none-any.whl'));
  await new Promise((done) => setTimeout(done, 150));
  assert.equal(runCli(['mirror', 'index', mirror]).status, 0);
  assert.ok(!readFileSync(join(mirror, 'p5', 'index.html'), 'utf8').includes('0.5'), 'the removed loose file is gone from the page');
  assertSameIndex(mirror, join(work.path, 'scratch'), 'stray removed');
});

test('a .yanked file edited in place in a directory the run would otherwise skip is seen', async () => {
  await using work = makeTempDir('dib-pypi-shards-yank-');
  const mirror = join(work.path, 'mirror');
  for (let i = 0; i < 24; i++) await makeWheel(join(mirror, `p${i}`), { name: `p${i}`, version: '1.0' });
  writeFileSync(join(mirror, 'p7', 'p7-1.0-py3-none-any.whl.yanked'), 'first reason\n');
  await indexAndSettle(mirror);
  assert.match(readFileSync(join(mirror, 'p7', 'index.json'), 'utf8'), /"yanked":"first reason"/);
  writeFileSync(join(mirror, 'p7', 'p7-1.0-py3-none-any.whl.yanked'), 'second reason\n', { flag: 'r+' });
  assert.equal(runCli(['mirror', 'index', mirror]).status, 0);
  assert.match(readFileSync(join(mirror, 'p7', 'index.json'), 'utf8'), /"yanked":"second reason"/);
  assertSameIndex(mirror, join(work.path, 'scratch'), 'yank edited in place');
});

test('a mirror big enough for the threads: one threaded full run gives the index that runs of fewer files each, inline, give', async () => {
  await using work = makeTempDir('dib-pypi-shards-threads-');
  const source = join(work.path, 'source');
  // 300 projects of one wheel each, some with an sdist too: over the 256 jobs that run inline, so the files
  // are inspected, the pages written and the directories recorded on the threads.
  const names = Array.from({ length: 300 }, (_, i) => (i % 50 === 7 ? `Odd.Name_${i}` : `proj-${i}`));
  const dirs = names.map(normalizeProjectName);
  for (const [i, name] of names.entries()) {
    await makeWheel(join(source, dirs[i] as string), { name, version: '1.0', ...(i % 3 === 0 ? { requiresPython: '>=3.8' } : {}) });
    if (i % 10 === 0) makeSdist(join(source, dirs[i] as string), { name, version: '0.9' });
  }
  writeFileSync(join(source, 'proj-11', 'proj_11-1.0-py3-none-any.whl.yanked'), 'bad build\n');
  const threaded = join(work.path, 'threaded');
  cpSync(source, threaded, { recursive: true });
  const result = runCli(['mirror', 'index', threaded], { env: cleanEnv({ DIB_PYPI_DEBUG_TIMING: '1' }) });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /timing: inspect \(330 files, [1-9] threads\)/);
  assert.match(readFileSync(join(threaded, 'proj-11', 'index.json'), 'utf8'), /"yanked":"bad build"/);

  // The same files added a hundred directories at a time: every run inspects, writes and records inline.
  const stepwise = join(work.path, 'stepwise');
  mkdirSync(stepwise);
  for (let from = 0; from < names.length; from += 100) {
    for (const dir of dirs.slice(from, from + 100)) cpSync(join(source, dir), join(stepwise, dir), { recursive: true });
    const step = runCli(['mirror', 'index', stepwise], { env: cleanEnv({ DIB_PYPI_DEBUG_TIMING: '1' }) });
    assert.equal(step.status, 0, step.stderr);
    assert.match(step.stderr, /timing: inspect \(\d+ files, 0 threads\)/);
  }
  const a = generated(threaded);
  const b = generated(stepwise);
  assert.equal(a.size, 300 + 300 * 2 + 2, 'a .metadata per wheel, two pages per project, the root pages');
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [path, bytes] of a) assert.equal(b.get(path), bytes, path);

  // The threads recorded the directories: the next run trusts them (at most RACY_WAIT_MIN of each batch of 64
  // may have been too recent to trust) and finds nothing to do; a wheel added to one of them is seen.
  const head = JSON.parse(readFileSync(join(threaded, '.dib-pypi', 'manifest.json'), 'utf8')) as { dirs: Record<string, { mtime: string }> };
  const relisted = Object.values(head.dirs).filter((d) => d.mtime === '0').length;
  assert.equal(Object.keys(head.dirs).length, 301);
  assert.ok(relisted <= 8 * Math.ceil(301 / 64), `${relisted} directories left to be listed again`);
  await new Promise((done) => setTimeout(done, 150));
  const again = runCli(['mirror', 'index', threaded]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /\(0 inspected, 0 written, 0 removed\)/);
  await makeWheel(join(threaded, 'proj-42'), { name: 'proj-42', version: '2.0' });
  const added = runCli(['mirror', 'index', threaded]);
  assert.match(added.stdout, /\(1 inspected, \d+ written, 0 removed\)/);
  assert.match(readFileSync(join(threaded, 'proj-42', 'index.html'), 'utf8'), /proj_42-2\.0-py3-none-any\.whl#sha256=/);
});
