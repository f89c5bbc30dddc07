// TarScanner on archives built in memory: formats, chunkings, and every way an archive can be cut or damaged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TarFormatError, TarScanner, type TarMember } from '../../../src/mirror/inspect/tar-scanner.js';
import { makeTar, type TarFormat } from '../../helpers/make-dist.js';

const LONG_DIR = `very-${'long-'.repeat(30)}name-1.0`; // 160 bytes: past ustar's 100-byte name field
const PKG_INFO = Buffer.from('Metadata-Version: 2.1\nName: x\nVersion: 1.0\n');

function scan(archive: Buffer, chunk: number, wants = (m: TarMember) => m.path.endsWith('/PKG-INFO') && m.type === '0'): TarScanner {
  const scanner = new TarScanner(wants, 1024 * 1024);
  for (let at = 0; at < archive.length; at += chunk) scanner.write(archive.subarray(at, at + chunk));
  scanner.end();
  return scanner;
}

function sdistTar(top: string, format: TarFormat, extra: [string, Buffer][] = []): Buffer {
  return makeTar(
    [[`${top}/setup.py`, Buffer.from('x'.repeat(700))], [`${top}/PKG-INFO`, PKG_INFO], [`${top}/pkg/__init__.py`, Buffer.alloc(0)], ...extra],
    format,
  );
}

const CHUNKS = [1, 7, 511, 512, 513, 4096, 1 << 20];

for (const format of ['ustar', 'gnu', 'pax'] as const) {
  for (const chunk of CHUNKS) {
    test(`TarScanner: ${format}, ${chunk}-byte chunks: finds <top>/PKG-INFO`, () => {
      const scanner = scan(sdistTar('demo-1.0', format), chunk);
      assert.deepEqual(scanner.found, { member: { path: 'demo-1.0/PKG-INFO', type: '0', size: PKG_INFO.length }, data: PKG_INFO });
      assert.equal(scanner.isAtEnd, true);
    });
  }
}

for (const format of ['gnu', 'pax'] as const) {
  test(`TarScanner: ${format} long names (160-byte top directory)`, () => {
    const scanner = scan(sdistTar(LONG_DIR, format), 100);
    assert.equal(scanner.found?.member.path, `${LONG_DIR}/PKG-INFO`);
    assert.deepEqual(scanner.found?.data, PKG_INFO);
  });
}

test('TarScanner: ustar cannot write a 160-byte name (helper refuses), so the prefix field is tested with a hand-made header', () => {
  assert.throws(() => sdistTar(LONG_DIR, 'ustar'), /too long for ustar/);
  const archive = makeTar([['p/PKG-INFO', PKG_INFO]]);
  // Move `p` into the POSIX prefix field: name `PKG-INFO`, prefix `top`, then fix the checksum.
  const header = archive.subarray(512, 1024); // after the `p/` directory header
  header.fill(0, 0, 100).write('PKG-INFO', 0);
  header.write('top', 345);
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  assert.equal(scan(archive, 512).found?.member.path, 'top/PKG-INFO');
});

test('TarScanner: the first wanted member wins, later ones are not kept', () => {
  const archive = makeTar([
    ['a/PKG-INFO', Buffer.from('first')],
    ['b/PKG-INFO', Buffer.from('second')],
  ]);
  assert.equal(scan(archive, 3).found?.data.toString(), 'first');
});

test('TarScanner: nothing wanted: no find, but the whole archive is still checked', () => {
  const archive = sdistTar('demo-1.0', 'ustar');
  assert.equal(scan(archive, 512, () => false).found, undefined);
  assert.throws(() => scan(archive.subarray(0, archive.length - 1024 - 512 - 1), 512, () => false), TarFormatError);
});

test('TarScanner: wants() sees directories, files and their sizes in order', () => {
  const seen: TarMember[] = [];
  scan(
    makeTar([
      ['d/f', Buffer.from('abc')],
      ['d/e/g', Buffer.alloc(0)],
    ]),
    64,
    (m) => {
      seen.push(m);
      return false;
    },
  );
  assert.deepEqual(seen, [
    { path: 'd/', type: '5', size: 0 },
    { path: 'd/e/', type: '5', size: 0 },
    { path: 'd/f', type: '0', size: 3 },
    { path: 'd/e/g', type: '0', size: 0 },
  ]);
});

test('TarScanner: an empty wanted member is found with empty data', () => {
  const scanner = scan(makeTar([['a/PKG-INFO', Buffer.alloc(0)]]), 512);
  assert.deepEqual(scanner.found?.data, Buffer.alloc(0));
});

test('TarScanner: an archive without the end-of-archive blocks is accepted (as Python tarfile does)', () => {
  const archive = sdistTar('demo-1.0', 'ustar');
  const scanner = scan(archive.subarray(0, archive.length - 1024), 512);
  assert.deepEqual(scanner.found?.data, PKG_INFO);
  assert.equal(scanner.isAtEnd, false);
});

test('TarScanner: bytes after the end-of-archive block are ignored', () => {
  const scanner = scan(Buffer.concat([sdistTar('demo-1.0', 'ustar'), Buffer.from('trailing garbage')]), 512);
  assert.deepEqual(scanner.found?.data, PKG_INFO);
});

test('TarScanner: an empty archive (no bytes) has no member', () => {
  assert.equal(scan(Buffer.alloc(0), 512).found, undefined);
});

// Every cut inside a header or inside member data is reported; a cut at a header boundary is not.
test('TarScanner: truncated at every byte offset', () => {
  const archive = sdistTar('demo-1.0', 'pax', [['demo-1.0/big.bin', Buffer.alloc(1500, 1)]]);
  const end = archive.length - 1024;
  const boundaries = new Set<number>();
  for (let at = 0; at <= end; at++) {
    try {
      scan(archive.subarray(0, at), 4096);
      boundaries.add(at);
    } catch (error) {
      assert.ok(error instanceof TarFormatError, String(error));
      assert.match(error.message, /^truncated tar archive: it ends inside (a header|member \S+)$/);
    }
  }
  // Whole members only: 0, after each of the 2 directory headers, after setup.py, PKG-INFO, __init__.py, big.bin.
  assert.deepEqual([...boundaries], [0, 512, 1024, 2560, 3584, 4096, 6144]);
});

test('TarScanner: truncated inside a long-name header', () => {
  const archive = sdistTar(LONG_DIR, 'gnu');
  assert.throws(() => scan(archive.subarray(0, 700), 512), { message: 'truncated tar archive: it ends inside member ././@LongLink' });
});

const DAMAGED: { name: string; archive: () => Buffer; message: RegExp }[] = [
  {
    name: 'not tar at all (text)',
    archive: () => Buffer.from('hello world\n'.repeat(100)),
    message: /^not a tar archive, or damaged: bad header checksum at offset 0$/,
  },
  {
    name: 'a flipped byte in the second header',
    archive: () => {
      const a = makeTar([
        ['a/x', Buffer.from('1')],
        ['a/y', Buffer.from('2')],
      ]);
      a.writeUInt8(a.readUInt8(1539) ^ 0x20, 1539); // in the header of a/y (after a/, a/x and its data block)
      return a;
    },
    message: /^not a tar archive, or damaged: bad header checksum at offset 1536$/,
  },
  {
    name: 'a size field that is not octal',
    archive: () => {
      const a = makeTar([['a', Buffer.from('1')]]);
      a.write('99999999999\0', 124);
      a.fill(0x20, 148, 156);
      let sum = 0;
      for (const byte of a.subarray(0, 512)) sum += byte;
      a.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
      return a;
    },
    message: /^bad member size in the header at offset 0$/,
  },
  {
    name: 'a wanted member larger than allowed',
    archive: () => makeTar([['a/PKG-INFO', Buffer.alloc(1024 * 1024 + 1)]]),
    message: /^a\/PKG-INFO is 1048577 bytes, more than the 1048576 allowed$/,
  },
];

for (const { name, archive, message } of DAMAGED) {
  test(`TarScanner: damaged: ${name}`, () => {
    assert.throws(
      () => scan(archive(), 512),
      (error: unknown) => {
        assert.ok(error instanceof TarFormatError, String(error));
        assert.match(error.message, message);
        return true;
      },
    );
  });
}

test('TarScanner: GNU base-256 size field', () => {
  const a = makeTar([['a/PKG-INFO', PKG_INFO]]);
  const header = a.subarray(512, 1024);
  header.fill(0, 124, 136);
  header[124] = 0x80;
  header.writeUInt32BE(PKG_INFO.length, 132);
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  assert.deepEqual(scan(a, 100).found?.data, PKG_INFO);
});

test('TarScanner: a signed-sum checksum (old tars) is accepted', () => {
  const a = makeTar([['a/\u00e9', Buffer.from('1')]]); // UTF-8 bytes >= 0x80 in the name
  const header = a.subarray(512, 1024);
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte > 127 ? byte - 256 : byte;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  const seen: string[] = [];
  scan(a, 512, (m) => {
    seen.push(m.path);
    return false;
  });
  assert.deepEqual(seen, ['a/', 'a/\u00e9']);
});
