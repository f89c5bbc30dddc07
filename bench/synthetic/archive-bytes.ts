// Zip (wheels) and gzipped ustar (sdists) written straight into buffers: the synthetic mirror has
// 40,000 of them, and a streaming zip library would spend more time on events than on bytes.
import { constants, crc32, deflateRawSync } from 'node:zlib';

export interface ArchiveEntry {
  /** Path inside the archive, `/`-separated, ASCII. */
  name: string;
  data: Buffer;
  /** Deflate it (text members), or store it as is (incompressible noise: deflate would only cost time). */
  isCompressed: boolean;
}

// 2020-01-01 00:00:00 in MS-DOS date/time format (APPNOTE 4.4.6), and as a Unix time for tar.
const DOS_DATE = ((2020 - 1980) << 9) | (1 << 5) | 1;
const DOS_TIME = 0;
const UNIX_TIME = 1577836800;

const DEFLATE_OPTIONS = { level: 6, memLevel: 2, windowBits: 12 };

/** A zip archive (APPNOTE.TXT 6.3): local headers and data, then the central directory, then its end record. */
export function renderZip(entries: readonly ArchiveEntry[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'ascii');
    const body = entry.isCompressed ? deflateRawSync(entry.data, DEFLATE_OPTIONS) : entry.data;
    const crc = crc32(entry.data);
    const method = entry.isCompressed ? 8 : 0;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0
    local.writeUInt16LE(0, 6); // flags
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28); // extra length
    parts.push(local, name, body);

    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, 2.0 (so external attributes carry the mode)
    header.writeUInt16LE(20, 6);
    header.writeUInt16LE(0, 8);
    header.writeUInt16LE(method, 10);
    header.writeUInt16LE(DOS_TIME, 12);
    header.writeUInt16LE(DOS_DATE, 14);
    header.writeUInt32LE(crc, 16);
    header.writeUInt32LE(body.length, 20);
    header.writeUInt32LE(entry.data.length, 24);
    header.writeUInt16LE(name.length, 28);
    // extra, comment, disk start, internal attributes: all 0
    header.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    header.writeUInt32LE(offset, 42);
    central.push(header, name);

    offset += local.length + name.length + body.length;
  }
  const centralSize = central.reduce((sum, b) => sum + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, ...central, end]);
}

/** One 512-byte ustar header (POSIX.1-1988) for a regular file or directory, name up to 100 bytes. */
function tarHeader(name: string, size: number, type: '0' | '5'): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`synthetic: tar member name too long: ${name}`);
  const header = Buffer.alloc(512);
  const octal = (value: number, width: number) => value.toString(8).padStart(width - 1, '0') + '\0';
  header.write(name, 0);
  header.write(octal(type === '5' ? 0o755 : 0o644, 8), 100);
  header.write(octal(0, 8), 108);
  header.write(octal(0, 8), 116);
  header.write(octal(size, 12), 124);
  header.write(octal(UNIX_TIME, 12), 136);
  header.write('        ', 148); // the checksum counts its own field as spaces
  header.write(type, 156);
  header.write('ustar\0' + '00', 257);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(octal(sum, 7) + ' ', 148);
  return header;
}

/** The ustar stream of `entries` (parent directories first, then the files, then two zero blocks). */
function renderTar(root: string, entries: readonly ArchiveEntry[]): Buffer[] {
  const blocks: Buffer[] = [tarHeader(`${root}/`, 0, '5')];
  for (const entry of entries) {
    const padding = (512 - (entry.data.length % 512)) % 512;
    blocks.push(tarHeader(`${root}/${entry.name}`, entry.data.length, '0'), entry.data, Buffer.alloc(padding));
  }
  blocks.push(Buffer.alloc(1024));
  return blocks;
}

/**
 * A `.tar.gz` (RFC 1952 around ustar) of `entries` under the directory `root`. Compressed
 * members are deflated, stored members go out as stored deflate blocks: one valid gzip member.
 */
export function renderTarGz(root: string, entries: readonly ArchiveEntry[]): Buffer {
  const tar = renderTar(root, entries);
  const storedBlocks = new Set<Buffer>();
  entries.forEach((entry, i) => {
    if (!entry.isCompressed) storedBlocks.add(tar[2 + 3 * i] as Buffer);
  });
  // Runs of blocks share one deflate call; a sync flush ends each run on a byte boundary, unfinished.
  const deflated: Buffer[] = [];
  let run: Buffer[] = [];
  let isRunStored = false;
  const flushRun = () => {
    if (run.length === 0) return;
    const options = isRunStored ? { level: 0 } : DEFLATE_OPTIONS;
    deflated.push(deflateRawSync(Buffer.concat(run), { ...options, finishFlush: constants.Z_SYNC_FLUSH }));
    run = [];
  };
  let crc = 0;
  let size = 0;
  for (const block of tar) {
    const isStored = storedBlocks.has(block);
    if (isStored !== isRunStored) {
      flushRun();
      isRunStored = isStored;
    }
    run.push(block);
    crc = crc32(block, crc);
    size += block.length;
  }
  flushRun();
  deflated.push(Buffer.from([0x03, 0x00])); // an empty final fixed-Huffman block ends the deflate stream
  const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]); // no name, mtime 0, OS Unix
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(size >>> 0, 4);
  return Buffer.concat([header, ...deflated, trailer]);
}
