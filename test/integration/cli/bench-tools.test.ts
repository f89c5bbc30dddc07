// The mirror benchmark's tools on their own: the synthetic mirror generator (valid, deterministic)
// and the floor script (recreates the produced files with their sizes, reports its time).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { listFileSizes, producedFiles, renderProducedList } from '../../../bench/measure/tree-sizes.js';
import { DEBIAN_PYTHON, envWithoutPip, makeTempDir } from '../../helpers/python.js';
import { hasCommand } from '../../helpers/require.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const GENERATOR = join(REPO, 'dist', 'bench', 'make-synthetic-mirror.js');
const FLOOR = join(REPO, 'bench', 'index-floor.sh');

/** sha256 over every file's path and bytes: equal digests, equal trees. */
function treeDigest(root: string): string {
  const hash = createHash('sha256');
  for (const [path] of [...listFileSizes(root)].sort(([a], [b]) => (a < b ? -1 : 1))) hash.update(`${path}\0`).update(readFileSync(join(root, path)));
  return hash.digest('hex');
}

test('make-synthetic-mirror writes the same valid small mirror every time, and adds a project', async () => {
  await using tmp = makeTempDir('dib-pypi-synthetic-');
  const [a, b] = [join(tmp.path, 'a'), join(tmp.path, 'b')];
  const first = await execa(process.execPath, [GENERATOR, '--size', 'small', a]);
  await execa(process.execPath, [GENERATOR, '--size', 'small', b]);
  assert.match(first.stdout, /^wrote files=1000 projects=125 bytes=\d+ /);
  assert.equal(treeDigest(a), treeDigest(b));

  const projects = readdirSync(a);
  assert.equal(projects.length, 125);
  for (const project of projects) assert.match(project, /^[a-z0-9]+(-[a-z0-9]+)*$/);
  const sizes = [...listFileSizes(a).values()];
  const total = sizes.reduce((x, y) => x + y, 0);
  assert.ok(total > 10e6 && total < 16e6, `small mirror totals ${total} bytes`);
  assert.ok(Math.max(...sizes) > 2e6, 'one file of several MB');

  const added = await execa(process.execPath, [GENERATOR, '--add-project', 'Extra.Project', a]);
  assert.match(added.stdout, /^wrote files=\d projects=1 /);
  assert.ok(readdirSync(join(a, 'extra-project')).every((f) => f.startsWith('extra_project-')));
  const again = await execa(process.execPath, [GENERATOR, '--add-project', 'extra-project', a], { reject: false });
  assert.equal(again.exitCode, 2, 'adding an existing project is refused');
  const notEmpty = await execa(process.execPath, [GENERATOR, '--size', 'small', a], { reject: false });
  assert.equal(notEmpty.exitCode, 2, 'a non-empty OUT_DIR is refused');

  // Python's own zipfile and tarfile: every wheel's RECORD matches its members, every sdist has PKG-INFO.
  if (!hasCommand(DEBIAN_PYTHON)) return;
  const check = [
    'import base64, csv, hashlib, io, os, sys, tarfile, zipfile',
    'n = 0',
    'for d, _, files in os.walk(sys.argv[1]):',
    '  for f in files:',
    '    p = os.path.join(d, f); n += 1',
    '    if f.endswith(".whl"):',
    '      z = zipfile.ZipFile(p); assert z.testzip() is None, p',
    '      rec = [m for m in z.namelist() if m.endswith(".dist-info/RECORD")][0]',
    '      for path, digest, size in csv.reader(io.TextIOWrapper(z.open(rec), "utf-8")):',
    '        if path == rec: continue',
    '        data = z.read(path)',
    '        assert digest == "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode(), (p, path)',
    '      assert z.read(rec[:-6] + "METADATA").startswith(b"Metadata-Version: 2.1\\n"), p',
    '    else:',
    '      t = tarfile.open(p); assert t.extractfile(f[:-7] + "/PKG-INFO").read().startswith(b"Metadata-Version"), p',
    '      for m in t.getmembers(): m.isfile() and t.extractfile(m).read()',
    'print(n)',
  ].join('\n');
  const checked = await execa(DEBIAN_PYTHON, ['-c', check, a], { env: envWithoutPip(process.env), extendEnv: false });
  assert.equal(Number(checked.stdout), 1000 + readdirSync(join(a, 'extra-project')).length);
});

test('index-floor.sh recreates the produced files with their sizes and prints floor_seconds last', async () => {
  await using tmp = makeTempDir('dib-pypi-floor-');
  const mirror = join(tmp.path, 'mirror');
  await execa(process.execPath, [GENERATOR, '--size', 'small', mirror]);
  const before = listFileSizes(mirror);
  // Stand-ins for what an index run writes: pages, a .metadata beside a wheel, a big manifest.
  const project = readdirSync(mirror)[0] as string;
  const wheel = readdirSync(join(mirror, project)).find((f) => f.endsWith('.whl')) as string;
  writeFileSync(join(mirror, 'index.html'), 'x'.repeat(300));
  writeFileSync(join(mirror, project, 'index.json'), 'x'.repeat(4096));
  writeFileSync(join(mirror, project, `${wheel}.metadata`), 'x'.repeat(5000));
  mkdirSync(join(mirror, '.dib-pypi'));
  writeFileSync(join(mirror, '.dib-pypi', 'manifest.json'), 'x'.repeat(100_003));
  const produced = producedFiles(before, listFileSizes(mirror));
  assert.deepEqual(
    produced.map(([path]) => path),
    ['.dib-pypi/manifest.json', `${project}/${wheel}.metadata`, `${project}/index.json`, 'index.html'],
  );
  const list = join(tmp.path, 'produced.txt');
  writeFileSync(list, renderProducedList(produced));

  for (const writer of ['builtin', 'fork']) {
    const run = await execa('bash', [FLOOR, '--writer', writer, '--keep', mirror, list]);
    const lines = run.stdout.trim().split('\n');
    assert.match(lines.at(-1) ?? '', /^floor_seconds=\d+\.\d{3}$/);
    assert.ok(lines.includes('files_hashed=1000'), run.stdout);
    assert.ok(lines.includes(`files_written=4 dirs_made=2 bytes_written=${300 + 4096 + 5000 + 100_003} writer=${writer}`), run.stdout);
    const scratch = lines.find((l) => l.startsWith('scratch_dir='))?.slice('scratch_dir='.length) ?? '';
    assert.equal(join(scratch, '..'), tmp.path, 'the recreated tree sits beside the mirror, on the same file system');
    assert.deepEqual([...listFileSizes(scratch)].sort(), [...produced].sort());
    await execa('rm', ['-rf', scratch]);
  }
  const run = await execa('bash', [FLOOR, mirror, list]);
  assert.ok(!run.stdout.includes('scratch_dir='));
  // Without --keep its scratch directory is gone afterwards.
  assert.deepEqual(readdirSync(tmp.path).sort(), ['mirror', 'produced.txt']);
  assert.equal(statSync(join(mirror, 'index.html')).size, 300, 'the mirror itself is left alone');

  const bad = await execa('bash', [FLOOR, mirror, join(tmp.path, 'missing.txt')], { reject: false });
  assert.equal(bad.exitCode, 2);
});

test('bench/exec.js and bench/mirror-export.js run, print their ratios, leave nothing behind, and refuse bad flags with exit 2', async () => {
  await using tmp = makeTempDir('dib-pypi-bench-small-');
  const exec = await execa(process.execPath, [join(REPO, 'dist', 'bench', 'exec.js'), '--runs', '1']);
  assert.match(exec.stdout, /^exec adds -?\d+\.\d ms to true; \/ node -e '': -?\d+\.\d\d \(target <= 1\.50\)$/m);
  const exported = await execa(process.execPath, [
    join(REPO, 'dist', 'bench', 'mirror-export.js'),
    '--size',
    'small',
    '--packages',
    '5',
    '--runs',
    '1',
    '--work-dir',
    tmp.path,
  ]);
  assert.match(exported.stdout, /a lock of 5 projects \(\d+ files\)/);
  assert.match(exported.stdout, /^ratio export \/ cp -al: +\d+\.\d\d$/m);
  assert.match(exported.stdout, /^ratio export --copy \/ cp -a: +\d+\.\d\d$/m);
  assert.deepEqual(readdirSync(tmp.path), [], 'the work directory is removed');
  for (const [script, args] of [
    ['exec.js', ['--runs', '0']],
    ['mirror-export.js', ['--packages', 'x']],
    ['mirror-export.js', ['--size', 'huge']],
  ] as const) {
    const bad = await execa(process.execPath, [join(REPO, 'dist', 'bench', script), ...args], { reject: false });
    assert.equal(bad.exitCode, 2, `${script} ${args.join(' ')}: ${bad.stderr}`);
  }
});
