// `.tar` and `.tar.gz` sdists: hashed, gunzipped and walked in one read (in memory when small, streamed when large), PKG-INFO taken on the way.
import { createHash } from 'node:crypto';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gunzipSync } from 'node:zlib';
import type { DistFilename, InspectedDistribution } from '../../pypi/types.js';
import { broken, firstLine, MAX_METADATA_BYTES, readFirstChunk, type InspectOptions, type OpenFile } from './read-distribution.js';
import { isTopPkgInfo, sdistCore } from './sdist-metadata.js';
import { tarMemberChecker } from './tar-member-check.js';
import { TarFormatError, TarScanner, type TarMember } from './tar-scanner.js';
import { readRange } from './zip-members.js';

/** A small .tar.gz is gunzipped in memory up to this size; past it, it is streamed. */
const MAX_INFLATED_IN_MEMORY = 16 * 1024 * 1024;
/** Feeds the tar scanner, at most `maxBytes` of it; its errors fail the pipeline. */
function tarSink(scanner: TarScanner, maxBytes = Infinity): Writable {
  let total = 0;
  const attempt = (step: () => void, callback: (error?: Error | null) => void) => {
    try {
      step();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  };
  return new Writable({
    write: (chunk: Buffer, _encoding, callback) =>
      attempt(() => {
        total += chunk.length;
        if (total > maxBytes) throw new TarFormatError(`the archive inflates to more than ${maxBytes} bytes`);
        scanner.write(chunk);
      }, callback),
    final: (callback) => attempt(() => scanner.end(), callback),
  });
}

function newTarScanner(strict = false): TarScanner {
  return new TarScanner(
    (member: TarMember) => isTopPkgInfo(member.path) && '07\0'.includes(member.type),
    MAX_METADATA_BYTES,
    strict ? tarMemberChecker() : undefined,
  );
}

/** zlib and tar failures as one-line reasons; anything else (I/O) as it is. */
function tarFailure(path: string, error: unknown): unknown {
  if (error instanceof TarFormatError) return broken(path, error.message, error);
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'Z_BUF_ERROR') return broken(path, 'truncated gzip stream (unexpected end of file)', error);
  if (code?.startsWith('Z_')) return broken(path, `not a gzip stream, or damaged: ${firstLine(error)}`, error);
  return error;
}

/**
 * A small archive (read whole already): gunzipped and scanned in memory, with no stream set-up.
 * Undefined when it inflates past MAX_INFLATED_IN_MEMORY: then it is streamed like a big one.
 */
export function scanWholeTar(whole: Buffer, isGzip: boolean, path: string, options: InspectOptions = {}): TarScanner | undefined {
  const scanner = newTarScanner(options.strict);
  try {
    // Past either limit, the stream below says which.
    scanner.write(isGzip ? gunzipSync(whole, { maxOutputLength: Math.min(MAX_INFLATED_IN_MEMORY, options.maxInflatedBytes ?? Infinity) }) : whole);
    scanner.end();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return undefined;
    throw tarFailure(path, error);
  }
  return scanner;
}

/** The archive from `first` (the bytes already read) on, through the hash, gunzip and the tar scanner. */
async function scanTarStream(file: OpenFile, first: Buffer, isGzip: boolean): Promise<{ scanner: TarScanner; size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  const rest = readRange(file.handle, first.length, Infinity, 256 * 1024);
  const source = async function* () {
    if (first.length > 0) yield Buffer.from(first); // a copy: the lent buffer goes back to the pool
    yield* rest;
  };
  const scanner = newTarScanner(file.options.strict);
  const sink = tarSink(scanner, file.options.maxInflatedBytes);
  try {
    await (isGzip ? pipeline(source, tap, createGunzip(), sink) : pipeline(source, tap, sink));
  } catch (error) {
    throw tarFailure(file.path, error);
  }
  return { scanner, size, sha256: hash.digest('hex') };
}

/**
 * `.tar` / `.tar.gz` in one read: a small file in memory, a big one streamed (hashed on the way
 * in, gunzipped into the tar scanner). The whole archive is decompressed and walked, even after
 * PKG-INFO: only then is a truncated one seen.
 */
export async function inspectTarSdist(file: OpenFile, filename: DistFilename, isGzip: boolean): Promise<InspectedDistribution> {
  const { first, isWhole } = await readFirstChunk(file);
  const strict = file.options.strict === true;
  const scanner = isWhole ? scanWholeTar(first, isGzip, file.path, file.options) : undefined;
  if (scanner !== undefined) {
    const sha256 = createHash('sha256').update(first).digest('hex');
    return { filename, size: first.length, sha256, ...sdistCore(scanner.found?.data, file.path, strict) };
  }
  // A big file goes on from where the first read stopped; a small one that inflates too much starts over.
  const streamed = await scanTarStream(file, isWhole ? Buffer.alloc(0) : first, isGzip);
  return { filename, size: streamed.size, sha256: streamed.sha256, ...sdistCore(streamed.scanner.found?.data, file.path, strict) };
}
