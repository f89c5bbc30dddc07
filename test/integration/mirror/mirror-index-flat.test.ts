// `mirror index` on 200,000 wheels in one flat directory (the layout `pip download -d` and pip2pi
// make): every file is indexed into its project's page. An array of that size spread into a call
// (`queue.push(...jobs)`) overflowed the stack here before. As root the tree lives on a tmpfs of
// its own: 400,000 small files cost a disk minutes to create and remove, and nothing here is about
// the disk.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { renderZip } from '../../../bench/synthetic/archive-bytes.js';
import { runCliAsync } from '../../helpers/cli.js';
import { makeTempDir } from '../../helpers/python.js';
import { isRoot } from '../../helpers/require.js';

const FILES = 200_000;
/** 200 versions of each of 1,000 projects: the one directory holds every file, while the index writes 1,000 pages, not 200,000. */
const PROJECTS = 1_000;
const VERSIONS = FILES / PROJECTS;

/** The smallest wheel the index accepts: METADATA, WHEEL and RECORD, stored uncompressed. */
function tinyWheel(name: string, version: string): Buffer {
  const info = `${name}-${version}.dist-info`;
  return renderZip([
    { name: `${info}/METADATA`, data: Buffer.from(`Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n\n`), isCompressed: false },
    { name: `${info}/WHEEL`, data: Buffer.from('Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n'), isCompressed: false },
    { name: `${info}/RECORD`, data: Buffer.from(`${info}/METADATA,,\n${info}/WHEEL,,\n${info}/RECORD,,\n`), isCompressed: false },
  ]);
}

test(`mirror index: ${FILES.toLocaleString('en')} wheels in one flat directory`, { timeout: 15 * 60_000 }, async () => {
  await using dir = makeTempDir('dib-pypi-flat-');
  const mirror = join(dir.path, 'mirror');
  mkdirSync(mirror);
  if (isRoot) {
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=3g,mode=0755', 'dib-pypi-flat', mirror], { encoding: 'utf8' });
    assert.equal(mounted.status, 0, mounted.stderr);
  }
  await using _unmount = { [Symbol.asyncDispose]: async () => void (isRoot && spawnSync('umount', [mirror])) };
  for (let p = 0; p < PROJECTS; p++) {
    for (let v = 0; v < VERSIONS; v++) writeFileSync(join(mirror, `flat${p}-1.${v}-py3-none-any.whl`), tinyWheel(`flat${p}`, `1.${v}`));
  }

  const result = await runCliAsync(['mirror', 'index', mirror]);
  assert.equal(result.status, 0, result.stderr);
  assert.doesNotMatch(result.stderr, /RangeError|call stack/);
  assert.match(result.stdout, new RegExp(`${PROJECTS} projects, ${FILES} files`));

  const root = JSON.parse(readFileSync(join(mirror, 'index.json'), 'utf8')) as { projects: { name: string }[] };
  assert.equal(root.projects.length, PROJECTS);
  const last = `flat${PROJECTS - 1}`;
  const page = JSON.parse(readFileSync(join(mirror, last, 'index.json'), 'utf8')) as { files: { filename: string }[] };
  assert.equal(page.files.length, VERSIONS);
  assert.ok(page.files.some((f) => f.filename === `${last}-1.${VERSIONS - 1}-py3-none-any.whl`));
  assert.equal(readdirSync(mirror).filter((name) => name.endsWith('.whl')).length, FILES);
});
