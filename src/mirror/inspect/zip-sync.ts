// A zip archive already in memory, read synchronously: its central directory and one small member (APPNOTE 4.3).
// The indexer reads tens of thousands of small wheels; in-memory parsing beats an async reader's round trips.
import { inflateRawSync } from 'node:zlib';
import { crc32 } from './crc32-native.js';
import { ZipMemberError } from './zip-members.js';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  localOffset: number;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** Central directory entries; undefined for a zip64 archive (the caller falls back to yauzl). */
export function listZipEntries(zip: Buffer): ZipEntry[] | undefined {
  const lowest = Math.max(0, zip.length - 22 - 0xffff);
  let eocd = -1;
  for (let at = zip.length - 22; at >= lowest; at--) {
    if (zip.readUInt32LE(at) === EOCD) {
      eocd = at;
      break;
    }
  }
  if (eocd === -1) throw new ZipMemberError('no end of central directory record (truncated or not a zip file)');
  const count = zip.readUInt16LE(eocd + 10);
  const cdSize = zip.readUInt32LE(eocd + 12);
  const cdOffset = zip.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) return undefined;
  if (cdOffset + cdSize > eocd) throw new ZipMemberError('central directory extends past its end record (truncated?)');
  const entries: ZipEntry[] = [];
  let at = cdOffset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > eocd || zip.readUInt32LE(at) !== CENTRAL) throw new ZipMemberError(`central directory entry ${i} is damaged`);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const entry: ZipEntry = {
      name: zip.toString('utf8', at + 46, at + 46 + nameLength),
      method: zip.readUInt16LE(at + 10),
      crc32: zip.readUInt32LE(at + 16),
      compressedSize: zip.readUInt32LE(at + 20),
      size: zip.readUInt32LE(at + 24),
      localOffset: zip.readUInt32LE(at + 42),
    };
    if (entry.compressedSize === 0xffffffff || entry.size === 0xffffffff || entry.localOffset === 0xffffffff) return undefined;
    entries.push(entry);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** One member's bytes, inflated and checked against its CRC-32. */
export function readZipEntry(zip: Buffer, entry: ZipEntry, maxBytes: number): Buffer {
  if (entry.size > maxBytes) throw new ZipMemberError(`${entry.name} is ${entry.size} bytes, more than ${maxBytes}`);
  const local = entry.localOffset;
  if (local + 30 > zip.length || zip.readUInt32LE(local) !== LOCAL) throw new ZipMemberError(`${entry.name}: local header damaged`);
  const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
  const end = start + entry.compressedSize;
  if (end > zip.length) throw new ZipMemberError(`${entry.name}: data runs past the end of the file (truncated?)`);
  let data: Buffer;
  if (entry.method === 0) data = zip.subarray(start, end);
  else if (entry.method === 8) {
    try {
      data = inflateRawSync(zip.subarray(start, end), { maxOutputLength: Math.max(entry.size, 1) });
    } catch (error) {
      throw new ZipMemberError(`${entry.name}: cannot inflate (${(error as Error).message})`);
    }
  } else throw new ZipMemberError(`${entry.name}: unsupported compression method ${entry.method}`);
  if (data.length !== entry.size || crc32(data) !== entry.crc32) {
    throw new ZipMemberError(`${entry.name}: CRC-32 or size mismatch (damaged)`);
  }
  return Buffer.from(data);
}
