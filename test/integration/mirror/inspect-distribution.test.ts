// inspectDistribution on real files: wheels and sdists written by make-dist and by Debian's pip, setuptools and GNU tar; broken ones; big ones.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { ZipFile } from 'yazl';
import { parseDistFilename } from '../../../src/pypi/dist-filename.js';
import { BrokenDistributionError } from '../../../src/pypi/errors.js';
import { inspectDistribution } from '../../../src/mirror/inspect/inspect-distribution.js';
import { inspectWholeSync } from '../../../src/mirror/inspect/inspect-sync.js';
import { CHUNK_BYTES } from '../../../src/mirror/inspect/read-distribution.js';
import type { InspectedDistribution } from '../../../src/pypi/types.js';
import { makeSdist, makeTar, makeWheel, renderMetadata, type DistSpec, type WheelSpec } from '../../helpers/make-dist.js';
import { DEBIAN_PYTHON, debianPipProblem, envWithoutPip, makeTempDir } from '../../helpers/python.js';
import { hasCommand, isRequired, need } from '../../helpers/require.js';

async function sha256sum(path: string): Promise<string> {
  const { stdout } = await execa('sha256sum', ['--binary', path]);
  return stdout.split(' ')[0] as string;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function inspect(path: string): Promise<InspectedDistribution> {
  const filename = parseDistFilename(basename(path));
  assert.ok(filename, `not a distribution file name: ${basename(path)}`);
  // Every file is also inspected from memory (as sync does with what it just downloaded): the same result, or broken too.
  const whole = readFileSync(path);
  const fromMemory = (): InspectedDistribution | undefined => inspectWholeSync(path, filename, whole);
  let result: InspectedDistribution;
  try {
    result = await inspectDistribution(path, filename);
  } catch (error) {
    let memoryError: unknown;
    let memoryResult: InspectedDistribution | undefined;
    try {
      memoryResult = fromMemory();
    } catch (e) {
      memoryError = e;
    }
    // (The in-memory zip reader words some reasons otherwise than yauzl: the same verdict is what counts.)
    if (memoryError !== undefined)
      assert.equal(
        memoryError instanceof BrokenDistributionError,
        error instanceof BrokenDistributionError,
        `from memory: ${String(memoryError)} where the file gave ${String(error)}`,
      );
    else assert.equal(memoryResult, undefined, `from memory: a result where the file gave ${String(error)}`);
    throw error;
  }
  const inMemory = fromMemory();
  if (inMemory !== undefined) assert.deepEqual(inMemory, result, 'from memory: the same result');
  const withKnownHash = inspectWholeSync(path, filename, whole, result.sha256);
  if (withKnownHash !== undefined) assert.deepEqual(withKnownHash, result, 'from memory, sha256 given: the same result');
  return result;
}

/** Size and sha256 checked against the file system and sha256sum. */
async function assertHashed(result: InspectedDistribution, path: string): Promise<void> {
  assert.equal(result.size, statSync(path).size);
  assert.equal(result.sha256, await sha256sum(path));
}

async function assertBroken(path: string, reason: RegExp): Promise<void> {
  await assert.rejects(inspect(path), (error: unknown) => {
    assert.ok(error instanceof BrokenDistributionError, `expected BrokenDistributionError, got ${String(error)}`);
    assert.equal(error.path, path);
    assert.match(error.reason, reason);
    assert.equal(error.message, `broken distribution ${path}: ${error.reason}`);
    assert.ok(!error.message.includes('\n'), 'one line');
    return true;
  });
}

/** `need`, printing the reason when it skips (CI=true or DIB_PYPI_REQUIRE_ALL=1: fails instead). */
function skipWithReason(t: TestContext, ok: boolean, reason: string): boolean {
  if (!ok && !isRequired) console.log(`skipping: ${reason}`);
  return need(t, ok, reason);
}

const DEMO: DistSpec = { name: 'Demo.Pkg', version: '1.0', requires: ['dep-lib>=1', 'extra-dep ; extra == "x"'], requiresPython: '>=3.7' };
const DEMO_CORE = {
  metadataVersion: '2.1',
  name: 'Demo.Pkg',
  version: '1.0',
  requiresPython: '>=3.7',
  requiresDist: ['dep-lib>=1', 'extra-dep ; extra == "x"'],
  providesExtra: [],
};

// Files up to CHUNK_BYTES are parsed from the one read; larger ones have their zip directory read by position.
const READ_PATHS: { name: string; padding: Record<string, Buffer> }[] = [
  { name: 'small (parsed from memory)', padding: {} },
  { name: `larger than ${CHUNK_BYTES} bytes (zip read by position)`, padding: { 'demo_pkg/blob.bin': randomBytes(CHUNK_BYTES + 4321) } },
];

for (const { name, padding } of READ_PATHS) {
  test(`wheel, ${name}: size, sha256, the exact METADATA bytes and their parse`, async () => {
    await using dir = makeTempDir('dib-pypi-inspect-');
    const path = await makeWheel(dir.path, { ...DEMO, data: padding });
    const result = await inspect(path);
    await assertHashed(result, path);
    const metadata = Buffer.from(renderMetadata(DEMO));
    assert.deepEqual(result, {
      filename: parseDistFilename('demo_pkg-1.0-py3-none-any.whl'),
      size: result.size,
      sha256: result.sha256,
      metadata,
      metadataSha256: sha256(metadata),
      core: DEMO_CORE,
    });
  });

  test(`wheel, ${name}: truncated (cut in half) is broken`, async () => {
    await using dir = makeTempDir('dib-pypi-inspect-');
    const path = await makeWheel(dir.path, { ...DEMO, data: padding });
    truncateSync(path, Math.floor(statSync(path).size / 2));
    await assertBroken(path, /^not a readable zip file: End of central directory record signature not found/);
  });

  test(`wheel, ${name}: no METADATA is broken`, async () => {
    await using dir = makeTempDir('dib-pypi-inspect-');
    const path = await makeWheel(dir.path, { ...DEMO, data: padding, omitMetadata: true });
    await assertBroken(path, /^no demo_pkg-1\.0\.dist-info\/METADATA in the wheel$/);
  });
}

test('wheel: the odd name Zope.Interface_Thing, in every spelling old and new tools wrote', async () => {
  await using dir = makeTempDir('dib-pypi-inspect-');
  const spec: WheelSpec = { name: 'Zope.Interface_Thing', version: '1.0rc1', requires: ['zope.event'] };
  const spellings: { fileName?: string; distInfoName?: string; file: string }[] = [
    { file: 'zope_interface_thing-1.0rc1-py3-none-any.whl' },
    {
      fileName: 'Zope.Interface_Thing-1.0rc1-py3-none-any.whl',
      distInfoName: 'Zope.Interface_Thing-1.0rc1',
      file: 'Zope.Interface_Thing-1.0rc1-py3-none-any.whl',
    },
    {
      fileName: 'zope_interface_thing-1.0rc1-py2.py3-none-any.whl',
      distInfoName: 'ZOPE.INTERFACE_THING-1.0rc1',
      file: 'zope_interface_thing-1.0rc1-py2.py3-none-any.whl',
    },
    {
      fileName: 'Zope.Interface_Thing-1.0rc1-py3-none-any.whl',
      distInfoName: 'zope_interface_thing-1.0rc1',
      file: 'Zope.Interface_Thing-1.0rc1-py3-none-any.whl',
    },
  ];
  for (const [i, { fileName, distInfoName, file }] of spellings.entries()) {
    const path = await makeWheel(join(dir.path, String(i)), { ...spec, fileName, distInfoName });
    assert.equal(basename(path), file);
    const result = await inspect(path);
    assert.equal(result.filename.normalized, 'zope-interface-thing');
    assert.deepEqual(result.core, { metadataVersion: '2.1', name: 'Zope.Interface_Thing', version: '1.0rc1', requiresDist: ['zope.event'], providesExtra: [] });
    assert.deepEqual(result.metadata, Buffer.from(renderMetadata(spec)));
  }
});

test('wheel: METADATA naming another project is broken', async () => {
  await using dir = makeTempDir('dib-pypi-inspect-');
  const path = await makeWheel(dir.path, { name: 'good-name', version: '1.0', metadataName: 'evil-name' });
  await assertBroken(path, /^METADATA names project "evil-name", the file name "good_name"$/);
});

test('wheel: METADATA Name spelled otherwise but normalising to the same project is fine', async () => {
  await using dir = makeTempDir('dib-pypi-inspect-');
  const path = await makeWheel(dir.path, { name: 'good-name', version: '1.0', metadataName: 'Good.Name' });
  assert.equal((await inspect(path)).core?.name, 'Good.Name');
});

test('wheel: METADATA with another version is broken; an equal PEP 440 spelling is fine', async () => {
  await using dir = makeTempDir('dib-pypi-inspect-');
  const other = await makeWheel(join(dir.path, 'a'), { name: 'v', version: '1.0', metadata: 'Metadata-Version: 2.1\nName: v\nVersion: 1.1\n' });
  await assertBroken(other, /^METADATA has version "1\.1", the file name "1\.0"$/);
  const invalid = await makeWheel(join(dir.path, 'b'), { name: 'v', version: '1.0', metadata: 'Metadata-Version: 2.1\nName: v\nVersion: one\n' });
  await assertBroken(invalid, /^METADATA has version "one", the file name "1\.0"$/);
  const same = await makeWheel(join(dir.path, 'c'), { name: 'v', version: '1.0', metadata: 'Metadata-Version: 2.1\nName: v\nVersion: 1.0.0\n' });
  assert.equal((await inspect(same)).core?.version, '1.0.0');
});

test('wheel: METADATA without Name is broken, naming the wheel', async () => {
  await using dir = makeTempDir('dib-pypi-inspect-');
  const path = await makeWheel(dir.path, { name: 'nameless', version: '1.0', metadata: 'Metadata-Version: 2.1\nVersion: 1.0\n' });
  await assertBroken(path, /^core metadata has no Name$/);
});

test('wheel: METADATA in latin-1 is kept byte for byte and parsed', async () => {
  await using dir = makeTempDir('dib-pypi-inspect-');
  const metadata = Buffer.concat([Buffer.from('Metadata-Version: 1.2\nName: old\nVersion: 1.0\nAuthor: Fran'), Buffer.from([0xe7]), Buffer.from('ois\n')]);
  const result = await inspect(await makeWheel(dir.path, { name: 'old', version: '1.0', metadata }));
  assert.deepEqual(result.metadata, metadata);
  assert.equal(result.metadataSha256, sha256(metadata));
  assert.equal(result.core?.metadataVersion, '1.2');
});

test('wheel: the .dist-info matching the file name wins over a vendored one', async () => {
  await using dir = makeTempDir('dib-pypi-inspect-');
  const vendored = { 'vendored-2.0.dist-info/METADATA': Buffer.from('Metadata-Version: 2.1\nName: vendored\nVersion: 2.0\n') };
  const result = await inspect(await makeWheel(dir.path, { name: 'host', version: '1.0', data: vendored }));
  assert.equal(result.core?.name, 'host');
});

test('wheel: a .dist-info with the version spelled otherwise is found as pip finds it (the only one starting with the name)', async () => {
  await using dir = makeTempDir('dib-pypi-inspect-');
  const path = await makeWheel(join(dir.path, 'a'), {
    name: 'spell',
    version: '1.0',
    distInfoName: 'spell-1.0.0',
    metadata: 'Metadata-Version: 2.1\nName: spell\nVersion: 1.0.0\n',
  });
  assert.equal((await inspect(path)).core?.version, '1.0.0');
  // Two candidates and neither is exact: no guess.
  const twin = { 'spell-1.0.1.dist-info/METADATA': Buffer.from('Metadata-Version: 2.1\nName: spell\nVersion: 1.0.1\n') };
  const ambiguous = await makeWheel(join(dir.path, 'b'), { name: 'spell', version: '1.0', distInfoName: 'spell-1.0.0', data: twin });
  await assertBroken(ambiguous, /^no spell-1\.0\.dist-info\/METADATA in the wheel$/);
});

test('wheel: a METADATA failing its CRC-32 is broken', async () => {
  await using dir = makeTempDir('dib-pypi-inspect-');
  // Stored (not deflated), so the text is in the file as is and one byte can be changed.
  const metadata = Buffer.from('Metadata-Version: 2.1\nName: crc\nVersion: 1.0\n');
  const path = await makeWheel(dir.path, { name: 'crc', version: '1.0', omitMetadata: true, data: { 'crc-1.0.dist-info/METADATA': metadata } });
  const bytes = readFileSync(path);
  const at = bytes.indexOf('Version: 1.0\n');
  assert.ok(at > 0);
  bytes.write('Version: 1.1\n', at);
  writeFileSync(path, bytes);
  await assertBroken(path, /^crc-1\.0\.dist-info\/METADATA fails its CRC-32 check$/);
});

/** Rewrite the compression method of `member` in the zip's central directory (what yauzl reads). */
function setCentralMethod(bytes: Buffer, member: string, method: number): void {
  const at = bytes.lastIndexOf(member) - 46;
  assert.equal(bytes.readUInt32LE(at), 0x02014b50, 'central directory header');
  bytes.writeUInt16LE(method, at + 10);
}

test('wheel: a METADATA with an unknown compression method, or that does not inflate, is broken', async () => {
  await using dir = makeTempDir('dib-pypi-inspect-');
  const metadata = Buffer.from('Metadata-Version: 2.1\nName: meth\nVersion: 1.0\n');
  const path = await makeWheel(dir.path, { name: 'meth', version: '1.0', omitMetadata: true, data: { 'meth-1.0.dist-info/METADATA': metadata } });
  const stored = readFileSync(path);
  setCentralMethod(stored, 'meth-1.0.dist-info/METADATA', 12); // bzip2
  writeFileSync(path, stored);
  await assertBroken(path, /^meth-1\.0\.dist-info\/METADATA uses compression method 12; only stored \(0\) and deflate \(8\) are read$/);
  setCentralMethod(stored, 'meth-1.0.dist-info/METADATA', 8); // plain text is not a deflate stream
  writeFileSync(path, stored);
  await assertBroken(path, /^meth-1\.0\.dist-info\/METADATA does not inflate: /);
});

test('wheel: not a zip file at all is broken', async () => {
  await using dir = makeTempDir('dib-pypi-inspect-');
  const path = join(dir.path, 'fake-1.0-py3-none-any.whl');
  writeFileSync(path, '<html>404 Not Found</html>\n');
  await assertBroken(path, /^not a readable zip file: End of central directory record signature not found/);
  writeFileSync(path, '');
  await assertBroken(path, /^not a readable zip file: End of central directory record signature not found/);
});

test('wheel: a METADATA larger than 32 MiB is refused before it is read', async () => {
  await using dir = makeTempDir('dib-pypi-inspect-');
  const metadata = Buffer.concat([Buffer.from('Name: huge\nVersion: 1.0\n\n'), Buffer.alloc(32 * 1024 * 1024 + 1, 0x61)]);
  const zip = new ZipFile();
  zip.addBuffer(metadata, 'huge-1.0.dist-info/METADATA');
  const chunks: Buffer[] = [];
  zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
  await new Promise((resolve) => {
    zip.outputStream.on('end', resolve);
    zip.end();
  });
  const path = join(dir.path, 'huge-1.0-py3-none-any.whl');
  writeFileSync(path, Buffer.concat(chunks));
  await assertBroken(path, /^huge-1\.0\.dist-info\/METADATA is 33554458 bytes; core metadata is at most 33554432$/);
});

// ---- sdists ----

test('sdist .tar.gz: PKG-INFO parsed, file hashed', async () => {
  await using dir = makeTempDir('dib-pypi-inspect-');
  const path = makeSdist(dir.path, DEMO);
  const result = await inspect(path);
  await assertHashed(result, path);
  assert.deepEqual(result, { filename: parseDistFilename('demo_pkg-1.0.tar.gz'), size: result.size, sha256: result.sha256, core: DEMO_CORE });
});

test('sdist: the odd name Zope.Interface_Thing in a legacy file name', async () => {
  await using dir = makeTempDir('dib-pypi-inspect-');
  const path = makeSdist(dir.path, { name: 'Zope.Interface_Thing', version: '5.0', fileName: 'Zope.Interface_Thing-5.0.tar.gz' });
  const result = await inspect(path);
  assert.equal(result.filename.normalized, 'zope-interface-thing');
  assert.equal(result.core?.name, 'Zope.Interface_Thing');
});

test('sdist: an ambiguous legacy name keeps the PKG-INFO that settles it (foo-v2-1.tar.gz is foo-v2 1, not foo v2-1)', async () => {
  await using dir = makeTempDir('dib-pypi-inspect-');
  const path = makeSdist(dir.path, { name: 'foo-v2', version: '1', fileName: 'foo-v2-1.tar.gz' });
  const result = await inspect(path);
  assert.deepEqual([result.filename.name, result.filename.version], ['foo', 'v2-1']);
  assert.deepEqual([result.core?.name, result.core?.version], ['foo-v2', '1']);
});

test('sdist .tgz and .tar: parsed the same way', async () => {
  await using dir = makeTempDir('dib-pypi-inspect-');
  const tgz = makeSdist(dir.path, { ...DEMO, fileName: 'demo_pkg-1.0.tgz' });
  assert.deepEqual((await inspect(tgz)).core, DEMO_CORE);
  const tar = join(dir.path, 'demo_pkg-1.0.tar');
  writeFileSync(tar, makeTar([['demo_pkg-1.0/PKG-INFO', Buffer.from(renderMetadata(DEMO))]], 'pax'));
  const result = await inspect(tar);
  assert.deepEqual(result.core, DEMO_CORE);
  await assertHashed(result, tar);
});

test('sdist without PKG-INFO (old sdists): no core, not an error', async () => {
  await using dir = makeTempDir('dib-pypi-inspect-');
  const path = makeSdist(dir.path, { name: 'ancient', version: '0.1', omitMetadata: true });
  const result = await inspect(path);
  await assertHashed(result, path);
  assert.deepEqual(result, { filename: parseDistFilename('ancient-0.1.tar.gz'), size: result.size, sha256: result.sha256 });
});

test("sdist: a PKG-INFO two levels deep (egg-info) is not the sdist's", async () => {
  await using dir = makeTempDir('dib-pypi-inspect-');
  const path = makeSdist(dir.path, {
    name: 'eggy',
    version: '0.1',
    omitMetadata: true,
    data: { 'eggy.egg-info/PKG-INFO': Buffer.from(renderMetadata({ name: 'eggy', version: '0.1' })) },
  });
  assert.equal((await inspect(path)).core, undefined);
});

test('sdist: a PKG-INFO naming another project, or without Name, gives no core (pip builds sdists; it never reads it)', async () => {
  await using dir = makeTempDir('dib-pypi-inspect-');
  const other = makeSdist(join(dir.path, 'a'), { name: 'mine', version: '1.0', metadataName: 'theirs' });
  assert.equal((await inspect(other)).core, undefined);
  const nameless = makeSdist(join(dir.path, 'b'), { name: 'mine', version: '1.0', metadata: 'Metadata-Version: 1.0\nVersion: 1.0\n' });
  assert.equal((await inspect(nameless)).core, undefined);
});

// A .tar.gz read whole in the first read is gunzipped in memory; a bigger one (or one that inflates
// past 16 MiB) is streamed. Each case runs on both paths.
const TAR_PATHS: { name: string; padding: () => Buffer }[] = [
  { name: 'small, in memory', padding: () => randomBytes(200_000) },
  { name: `over ${CHUNK_BYTES} bytes, streamed`, padding: () => randomBytes(CHUNK_BYTES * 2 + 777) },
  { name: 'small but inflating to 20 MiB, streamed', padding: () => Buffer.alloc(20 * 1024 * 1024) },
];

for (const { name, padding } of TAR_PATHS) {
  test(`sdist .tar.gz, ${name}: PKG-INFO found, hashed as sha256sum`, async () => {
    await using dir = makeTempDir('dib-pypi-inspect-');
    const path = makeSdist(dir.path, { ...DEMO, data: { 'zzz/blob.bin': padding() } });
    const result = await inspect(path);
    await assertHashed(result, path);
    assert.deepEqual(result.core, DEMO_CORE);
  });

  test(`sdist .tar.gz, ${name}: truncated (cut in half) is broken`, async () => {
    await using dir = makeTempDir('dib-pypi-inspect-');
    const path = makeSdist(dir.path, { ...DEMO, data: { 'blob.bin': padding() } });
    truncateSync(path, Math.floor(statSync(path).size / 2));
    await assertBroken(path, /^truncated gzip stream \(unexpected end of file\)$/);
  });

  test(`sdist .tar.gz, ${name}: cut after PKG-INFO is still broken (the whole archive is read)`, async () => {
    await using dir = makeTempDir('dib-pypi-inspect-');
    const path = makeSdist(dir.path, { ...DEMO, data: { 'zzz.bin': padding() } });
    truncateSync(path, statSync(path).size - 10);
    await assertBroken(path, /^truncated gzip stream \(unexpected end of file\)$/);
  });

  test(`sdist .tar.gz, ${name}: a complete gzip of a cut tar is broken`, async () => {
    await using dir = makeTempDir('dib-pypi-inspect-');
    const blob = padding();
    const tar = makeTar([
      ['cut-1.0/PKG-INFO', Buffer.from(renderMetadata({ name: 'cut', version: '1.0' }))],
      ['cut-1.0/big', blob],
    ]);
    const path = join(dir.path, 'cut-1.0.tar.gz');
    writeFileSync(path, gzipSync(tar.subarray(0, tar.length - 1024 - 700), { level: 1 }));
    await assertBroken(path, /^truncated tar archive: it ends inside member cut-1\.0\/big$/);
  });
}

test('sdist .tar.gz that is not gzip, or gzip of something else, is broken', async () => {
  await using dir = makeTempDir('dib-pypi-inspect-');
  const path = join(dir.path, 'junk-1.0.tar.gz');
  writeFileSync(path, 'not gzip\n'.repeat(100));
  await assertBroken(path, /^not a gzip stream, or damaged: incorrect header check$/);
  writeFileSync(path, gzipSync(Buffer.from('plain text, not tar\n'.repeat(100))));
  await assertBroken(path, /^not a tar archive, or damaged: bad header checksum at offset 0$/);
  writeFileSync(path, '');
  await assertBroken(path, /^truncated gzip stream \(unexpected end of file\)$/);
});

async function zipOf(files: Record<string, Buffer | string>): Promise<Buffer> {
  const zip = new ZipFile();
  for (const [name, data] of Object.entries(files)) zip.addBuffer(Buffer.from(data), name);
  const chunks: Buffer[] = [];
  zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
  await new Promise((resolve) => {
    zip.outputStream.on('end', resolve);
    zip.end();
  });
  return Buffer.concat(chunks);
}

test('sdist .zip: PKG-INFO parsed; without it no core; truncated is broken', async () => {
  await using dir = makeTempDir('dib-pypi-inspect-');
  const path = join(dir.path, 'demo_pkg-1.0.zip');
  writeFileSync(
    path,
    await zipOf({
      'demo_pkg-1.0/setup.py': 'x',
      'demo_pkg-1.0/demo_pkg.egg-info/PKG-INFO': 'Name: wrong\nVersion: 9\n',
      'demo_pkg-1.0/PKG-INFO': renderMetadata(DEMO),
    }),
  );
  const result = await inspect(path);
  await assertHashed(result, path);
  assert.deepEqual(result.core, DEMO_CORE);
  assert.equal(result.metadata, undefined);

  writeFileSync(path, await zipOf({ 'demo_pkg-1.0/setup.py': 'x' }));
  assert.equal((await inspect(path)).core, undefined);

  truncateSync(path, 40);
  await assertBroken(path, /^not a readable zip file: /);
});

// The one read: every size around the chunk boundary hashes as sha256sum does (.tar.bz2: hashed only).
for (const size of [0, 1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 3 * CHUNK_BYTES + 17]) {
  test(`sdist .tar.bz2 of ${size} bytes: hashed only, as sha256sum`, async () => {
    await using dir = makeTempDir('dib-pypi-inspect-');
    const path = join(dir.path, 'bz-1.0.tar.bz2');
    writeFileSync(path, randomBytes(size));
    const result = await inspect(path);
    await assertHashed(result, path);
    assert.deepEqual(Object.keys(result).sort(), ['filename', 'sha256', 'size']);
  });
}

test('a 3 MB .tar.gz that is not gzip fails at once, and its descriptor is closed', async () => {
  await using dir = makeTempDir('dib-pypi-inspect-');
  const path = join(dir.path, 'junk-1.0.tar.gz');
  writeFileSync(path, randomBytes(3 * 1024 * 1024));
  const fdsBefore = readdirSync('/proc/self/fd').length;
  for (let i = 0; i < 5; i++) await assertBroken(path, /^not a gzip stream, or damaged: /);
  assert.equal(readdirSync('/proc/self/fd').length, fdsBefore);
});

test('I/O errors are not broken distributions: a missing file throws ENOENT', async () => {
  await assert.rejects(inspect('/nonexistent/x-1.0-py3-none-any.whl'), { code: 'ENOENT' });
});

test('many files at once: same results as one by one, no descriptor left open', async () => {
  await using dir = makeTempDir('dib-pypi-inspect-');
  const paths: string[] = [];
  for (let i = 0; i < 40; i++) {
    paths.push(i % 2 === 0 ? await makeWheel(dir.path, { name: `w${i}`, version: '1.0' }) : makeSdist(dir.path, { name: `s${i}`, version: '1.0' }));
  }
  const broken = join(dir.path, 'broken-1.0-py3-none-any.whl');
  writeFileSync(broken, 'junk');
  const fdsBefore = readdirSync('/proc/self/fd').length;
  const one = [];
  for (const path of paths) one.push(await inspect(path));
  const all = await Promise.all(paths.map(inspect));
  const errors = await Promise.allSettled(Array.from({ length: 20 }, () => inspect(broken)));
  assert.deepEqual(all, one);
  assert.ok(errors.every((e) => e.status === 'rejected' && e.reason instanceof BrokenDistributionError));
  assert.equal(readdirSync('/proc/self/fd').length, fdsBefore);
});

// ---- big files: memory stays flat (measured in a child process, with a readFile control) ----

interface MemoryRun {
  growth: number;
  after: number;
  size: number;
  sha256: string;
}

/** In a fresh node: inspect `warmUp` (first-call costs: JIT, OpenSSL, zlib), then run `read` on `path` and report the peak rss growth. */
async function measureInChild(read: string, path: string, warmUp: string): Promise<MemoryRun> {
  const modules = ['mirror/inspect/inspect-distribution', 'pypi/dist-filename'].map((m) =>
    JSON.stringify(fileURLToPath(new URL(`../../../src/${m}.js`, import.meta.url))),
  );
  const script = [
    `const { inspectDistribution } = await import(${modules[0]});`,
    `const { parseDistFilename } = await import(${modules[1]});`,
    `const { readFile, writeFile } = await import('node:fs/promises');`,
    `const { basename } = await import('node:path');`,
    `const inspect = (path) => inspectDistribution(path, parseDistFilename(basename(path)));`,
    `const [path, warmUp] = process.argv.slice(1);`,
    `await inspect(warmUp);`,
    // Peak rss of this process alone: VmHWM, reset to the current rss by writing 5 to clear_refs.
    // (ru_maxrss would not do: Linux carries the forking parent's peak across exec.)
    `const hwm = async () => Number(/VmHWM:\\s+(\\d+) kB/.exec(await readFile('/proc/self/status', 'utf8'))[1]) * 1024;`,
    `await writeFile('/proc/self/clear_refs', '5');`,
    `const before = await hwm();`,
    `const result = ${read};`,
    `const peak = await hwm();`,
    `console.log(JSON.stringify({ growth: peak - before, after: process.memoryUsage().rss - before, size: result.size, sha256: result.sha256 }));`,
  ].join('\n');
  return JSON.parse((await execa(process.execPath, ['--input-type=module', '-e', script, path, warmUp])).stdout) as MemoryRun;
}

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

test('a 50 MB wheel: peak rss grows by far less than the file (a readFile control shows it all), sha256 as sha256sum', async () => {
  await using dir = makeTempDir('dib-pypi-inspect-');
  const path = await makeWheel(join(dir.path, 'big'), { name: 'big', version: '1.0', data: { 'big/blob.bin': randomBytes(50 * 1024 * 1024) } });
  const warmUp = await makeWheel(join(dir.path, 'warm'), { name: 'warm', version: '1.0', data: { 'warm/blob.bin': randomBytes(2 * CHUNK_BYTES) } });
  const inspected = await measureInChild('await inspect(path)', path, warmUp);
  const control = await measureInChild('{ size: (await readFile(path)).length, sha256: "" }', path, warmUp);
  const fileSize = statSync(path).size;
  console.log(`50 MB wheel: peak rss growth ${mib(inspected.growth)} inspecting (${mib(inspected.after)} after), ${mib(control.growth)} for a readFile of it`);
  assert.ok(control.growth > fileSize * 0.9, `control: readFile must show the file in rss (grew ${control.growth} for ${fileSize})`);
  assert.ok(inspected.growth < fileSize / 8, `peak rss grew ${inspected.growth} bytes inspecting a ${fileSize}-byte wheel`);
  assert.equal(inspected.size, fileSize);
  assert.equal(inspected.sha256, await sha256sum(path));
});

// A .tar.gz streams through zlib, whose output buffers are garbage until V8 collects them: rss
// rises to a plateau (about 32 MiB here) that does not depend on the file's size.
test('big .tar.gz sdists (20 MB, 80 MB): peak rss growth does not grow with the file', async () => {
  await using dir = makeTempDir('dib-pypi-inspect-');
  const write = (name: string, bytes: number) => {
    const path = join(dir.path, `${name}-1.0.tar.gz`);
    const tar = makeTar([
      [`${name}-1.0/PKG-INFO`, Buffer.from(renderMetadata({ name, version: '1.0' }))],
      [`${name}-1.0/blob.bin`, randomBytes(bytes)],
    ]);
    writeFileSync(path, gzipSync(tar, { level: 1 }));
    return path;
  };
  const warmUp = write('warm', 2 * CHUNK_BYTES);
  const small = write('small', 20 * 1024 * 1024);
  const large = write('large', 80 * 1024 * 1024);
  const smallRun = await measureInChild('await inspect(path)', small, warmUp);
  const largeRun = await measureInChild('await inspect(path)', large, warmUp);
  console.log(`.tar.gz sdists: peak rss growth ${mib(smallRun.growth)} for 20 MB, ${mib(largeRun.growth)} for 80 MB`);
  assert.ok(largeRun.growth < smallRun.growth + 16 * 1024 * 1024, `80 MB: ${mib(largeRun.growth)}, 20 MB: ${mib(smallRun.growth)}`);
  assert.ok(largeRun.growth < statSync(large).size / 2, `80 MB: ${mib(largeRun.growth)}`);
  assert.equal(largeRun.sha256, await sha256sum(large));
  assert.equal(largeRun.size, statSync(large).size);
});

// ---- files written by real tools ----

test('real tools: a wheel built by Debian pip/setuptools/wheel and an sdist by setuptools, odd name Zope.Interface_Thing', async (t) => {
  const problem = await debianPipProblem();
  if (!skipWithReason(t, problem === undefined, problem ?? '')) return;
  await using dir = makeTempDir('dib-pypi-inspect-real-');
  const spec: DistSpec = {
    name: 'Zope.Interface_Thing',
    version: '2.0.post1',
    requires: ['zope.event>=4', 'pytest ; extra == "test"'],
    requiresPython: '>=3.7',
  };
  const sdist = makeSdist(join(dir.path, 'src'), spec);
  await execa('tar', ['-xzf', sdist, '-C', join(dir.path, 'src')]);
  const tree = join(dir.path, 'src', 'zope_interface_thing-2.0.post1');
  const env = envWithoutPip(process.env, { PIP_CONFIG_FILE: '/dev/null', SOURCE_DATE_EPOCH: '1577836800' });
  const out = join(dir.path, 'out');
  const built = await execa(DEBIAN_PYTHON, ['-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '--no-cache-dir', '-w', out, tree], {
    env,
    extendEnv: false,
    reject: false,
    all: true,
  });
  assert.equal(built.exitCode, 0, `pip wheel failed:\n${built.all}`);
  const made = await execa(DEBIAN_PYTHON, ['-c', `import setuptools.build_meta as b, sys; print(b.build_sdist(sys.argv[1]))`, out], {
    env,
    extendEnv: false,
    cwd: tree,
    all: true,
  });
  const files = readdirSync(out).sort();
  assert.equal(files.length, 2, files.join(' '));
  const wheelFile = files.find((f) => f.endsWith('.whl')) as string;
  const sdistFile = made.stdout.trim().split('\n').pop() as string;
  console.log(`built by Debian's tools: ${wheelFile}, ${sdistFile}`);

  const wheel = await inspect(join(out, wheelFile));
  await assertHashed(wheel, join(out, wheelFile));
  assert.equal(wheel.filename.normalized, 'zope-interface-thing');
  // Our parse equals Python's email parser on the same METADATA member (setuptools rewrites the name and requirements).
  const pyRead = [
    'import email, hashlib, json, sys, tarfile, zipfile',
    'if sys.argv[1].endswith(".whl"):',
    '    z = zipfile.ZipFile(sys.argv[1])',
    '    data = z.read([n for n in z.namelist() if n.endswith(".dist-info/METADATA")][0])',
    'else:',
    '    t = tarfile.open(sys.argv[1])',
    '    data = t.extractfile([m for m in t.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")][0]).read()',
    'm = email.message_from_bytes(data)',
    'core = {"metadataVersion": m["Metadata-Version"], "name": m["Name"], "version": m["Version"], "requiresDist": m.get_all("Requires-Dist") or [], "providesExtra": m.get_all("Provides-Extra") or []}',
    'if m["Requires-Python"]: core["requiresPython"] = m["Requires-Python"]',
    'print(json.dumps({"core": core, "sha256": hashlib.sha256(data).hexdigest()}))',
  ].join('\n');
  const pyParse = async (path: string) =>
    JSON.parse((await execa(DEBIAN_PYTHON, ['-c', pyRead, path], { env, extendEnv: false })).stdout) as { core: unknown; sha256: string };
  const pyWheel = await pyParse(join(out, wheelFile));
  assert.deepEqual(wheel.core, pyWheel.core);
  assert.equal(wheel.metadataSha256, pyWheel.sha256);
  assert.equal(wheel.core?.requiresDist.length, 2);
  assert.equal(wheel.core?.requiresPython, '>=3.7');

  const sdistResult = await inspect(join(out, sdistFile));
  await assertHashed(sdistResult, join(out, sdistFile));
  assert.deepEqual(sdistResult.core, (await pyParse(join(out, sdistFile))).core);
  assert.equal(sdistResult.core?.version, '2.0.post1');
});

for (const format of ['gnu', 'pax', 'ustar', 'v7'] as const) {
  test(`real tools: GNU tar --format=${format} sdist, with a long top directory where the format allows it`, async (t) => {
    if (!skipWithReason(t, hasCommand('tar'), 'GNU tar is not installed')) return;
    await using dir = makeTempDir('dib-pypi-inspect-tar-');
    const isLong = format === 'gnu' || format === 'pax';
    const version = isLong ? `1.0.dev${'1'.repeat(90)}` : '1.0'; // a 100+ byte path needs GNU or pax
    const top = `tar_fmt-${version}`;
    const tree = join(dir.path, top);
    await execa('mkdir', ['-p', join(tree, 'tar_fmt')]);
    writeFileSync(join(tree, 'PKG-INFO'), renderMetadata({ name: 'tar-fmt', version }));
    writeFileSync(join(tree, 'tar_fmt', '__init__.py'), '');
    const path = join(dir.path, `${top}.tar.gz`);
    await execa('tar', [`--format=${format}`, '-czf', path, '-C', dir.path, top]);
    const result = await inspect(path);
    assert.equal(result.core?.version, version);
    await assertHashed(result, path);
  });
}
