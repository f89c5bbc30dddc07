// `mirror index` on 200,000 wheels in one flat directory (the layout `pip download -d` and pip2pi
// make): every file is indexed into its project's page. An array of that size spread into a call
// (`queue.push(...jobs)`) overflowed the stack here before.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { renderZip } from '../../bench/synthetic/archive-bytes.js';
import { runCliAsync } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/python.js';

const FILES = 200_000;

/** The smallest wheel the index accepts: METADATA, WHEEL and RECORD, stored uncompressed. */
function tinyWheel(name: string): Buffer {
  const info = `${name}-1.0.dist-info`;
  return renderZip([
    { name: `${info}/METADATA`, data: Buffer.from(`Metadata-Version: 2.1\nName: ${name}\nVersion: 1.0\n\n`), isCompressed: false },
    { name: `${info}/WHEEL`, data: Buffer.from('Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n'), isCompressed: false },
    { name: `${info}/RECORD`, data: Buffer.from(`${info}/METADATA,,\n${info}/WHEEL,,\n${info}/RECORD,,\n`), isCompressed: false },
  ]);
}

test(`mirror index: ${FILES.toLocaleString('en')} wheels in one flat directory`, { timeout: 15 * 60_000 }, async () => {
  await using dir = makeTempDir('dib-pypi-flat-');
  const mirror = join(dir.path, 'mirror');
  mkdirSync(mirror);
  for (let i = 0; i < FILES; i++) writeFileSync(join(mirror, `flat${i}-1.0-py3-none-any.whl`), tinyWheel(`flat${i}`));

  const result = await runCliAsync(['mirror', 'index', mirror]);
  assert.equal(result.status, 0, result.stderr);
  assert.doesNotMatch(result.stderr, /RangeError|call stack/);
  assert.match(result.stdout, new RegExp(`${FILES} projects, ${FILES} files`));

  const root = JSON.parse(readFileSync(join(mirror, 'index.json'), 'utf8')) as { projects: { name: string }[] };
  assert.equal(root.projects.length, FILES);
  const last = `flat${FILES - 1}`;
  const page = JSON.parse(readFileSync(join(mirror, last, 'index.json'), 'utf8')) as { files: { filename: string }[] };
  assert.deepEqual(page.files.map((f) => f.filename), [`${last}-1.0-py3-none-any.whl`]);
  assert.equal(readdirSync(mirror).filter((name) => name.endsWith('.whl')).length, FILES);
});
