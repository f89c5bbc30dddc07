// Zip archives (wheels, .zip sdists) through yauzl: the central directory, then one small member read whole.
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { inflateRawSync } from 'node:zlib';
import yauzl from 'yauzl';
import { crc32 } from './crc32-native.js';

/** A member that cannot be read: `reason` is one line, for `BrokenDistributionError`. */
export class ZipMemberError extends Error {}

/** Where the archive's bytes are: in memory (the file fit in one read), or an open file read by position. */
export type ZipSource = { buffer: Buffer } | { handle: FileHandle; size: number };

/**
 * Bytes `start` to `end` (exclusive) of the open file, read by position. Not fs.createReadStream
 * with `fd`: destroying that closes the descriptor (whatever `autoClose` says) under our handle.
 */
export function readRange(handle: FileHandle, start: number, end: number, chunkBytes: number): Readable {
  let position = start;
  return new Readable({
    highWaterMark: chunkBytes,
    read() {
      const length = Math.min(chunkBytes, end - position);
      if (length <= 0) return void this.push(null);
      handle.read(Buffer.allocUnsafe(length), 0, length, position).then(
        ({ bytesRead, buffer }) => {
          position += bytesRead;
          this.push(bytesRead === 0 ? null : buffer.subarray(0, bytesRead));
        },
        (error: Error) => this.destroy(error),
      );
    },
  });
}

/** yauzl reads the central directory and local headers through our open handle by position; closing it stays ours. (No `_readStreamForRange`: members are read by `readSmallMember`, not yauzl's streams.) */
class HandleReader extends yauzl.RandomAccessReader {
  constructor(private readonly handle: FileHandle) {
    super();
  }
  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null) => void): void {
    // yauzl checks the count itself ("unexpected EOF"); it needs bytesRead, which its typings omit.
    const done = callback as (err: Error | null, bytesRead?: number) => void;
    this.handle.read(buffer, offset, length, position).then(
      ({ bytesRead }) => done(null, bytesRead),
      (error: Error) => done(error),
    );
  }
  override close(callback: (err: Error | null) => void): void {
    callback(null);
  }
}

/** The archive with its central directory located (yauzl reads the tail of the file for it). */
export async function openZip(source: ZipSource): Promise<yauzl.ZipFile> {
  const options = { lazyEntries: true, autoClose: false };
  const zip = await ('buffer' in source
    ? yauzl.fromBufferPromise(source.buffer, options)
    : yauzl.fromRandomAccessReaderPromise(new HandleReader(source.handle), source.size, options));
  // Every call we make reports its errors through its promise; an 'error' event emitted with no
  // listener (a read finishing after we gave up on the archive) must not end the process.
  zip.on('error', () => {});
  return zip;
}

/** The first member `wants` accepts, reading the central directory only as far as needed; `seen` gets each member passed over. */
export async function findMember(zip: yauzl.ZipFile, wants: (name: string) => boolean, seen?: (entry: yauzl.Entry) => void): Promise<yauzl.Entry | undefined> {
  for await (const entry of zip.eachEntry()) {
    if (wants(entry.fileName)) return entry;
    seen?.(entry);
  }
  return undefined;
}

/** The member's stored bytes: a slice of the archive in memory, or one positional read. */
async function readStored(zip: yauzl.ZipFile, entry: yauzl.Entry, source: ZipSource): Promise<Buffer> {
  const { fileDataStart } = await zip.readLocalFileHeaderPromise(entry, { minimal: true });
  if ('buffer' in source) return source.buffer.subarray(fileDataStart, fileDataStart + entry.compressedSize);
  const { bytesRead, buffer } = await source.handle.read(Buffer.alloc(entry.compressedSize), 0, entry.compressedSize, fileDataStart);
  if (bytesRead !== entry.compressedSize) throw new ZipMemberError(`${entry.fileName}: unexpected end of file`);
  return buffer;
}

/**
 * A small member's bytes, in a fresh Buffer, checked against its size and CRC-32 (yauzl checks
 * neither when reading this way, and a flipped bit would be served as PEP 658 metadata). Inflated
 * in one synchronous call: yauzl's stream stack (a zlib stream per file) costs more than the
 * inflate of a few KB itself. Members over `maxBytes` are refused before they are read.
 */
export async function readSmallMember(zip: yauzl.ZipFile, entry: yauzl.Entry, source: ZipSource, maxBytes: number): Promise<Buffer> {
  const name = entry.fileName;
  if (entry.uncompressedSize > maxBytes || entry.compressedSize > maxBytes + 65536) {
    throw new ZipMemberError(`${name} is ${entry.uncompressedSize} bytes; core metadata is at most ${maxBytes}`);
  }
  if (entry.isEncrypted()) throw new ZipMemberError(`${name} is encrypted`);
  const stored = await readStored(zip, entry, source);
  let data: Buffer;
  if (entry.compressionMethod === 0) data = Buffer.from(stored);
  else if (entry.compressionMethod === 8) {
    try {
      data = inflateRawSync(stored, { maxOutputLength: Math.max(entry.uncompressedSize, 1) });
    } catch (error) {
      throw new ZipMemberError(`${name} does not inflate: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  } else throw new ZipMemberError(`${name} uses compression method ${entry.compressionMethod}; only stored (0) and deflate (8) are read`);
  if (data.length !== entry.uncompressedSize) throw new ZipMemberError(`${name} is ${data.length} bytes, its zip entry says ${entry.uncompressedSize}`);
  if (crc32(data) !== entry.crc32 >>> 0) throw new ZipMemberError(`${name} fails its CRC-32 check`);
  return data;
}
