// The synchronous inspection of a file that fits in one read, parsed in memory: no async round trip for the common case.
import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';
import { parseCoreMetadata } from '../../pypi/core-metadata.js';
import type { DistFilename, InspectedDistribution } from '../../pypi/types.js';
import { scanWholeTar } from './inspect-tar.js';
import { broken, CHUNK_BYTES, MAX_METADATA_BYTES } from './read-distribution.js';
import { isTopPkgInfo, sdistCore } from './sdist-metadata.js';
import { checkWheelCore, wheelMetadataEntry } from './wheel-metadata.js';
import { ZipMemberError } from './zip-members.js';
import { listZipEntries, readZipEntry, type ZipEntry } from './zip-sync.js';

let syncBuffer: Buffer | undefined;

/**
 * The whole file (open as `fd`, read from its start) when it fits in one CHUNK_BYTES read, else
 * undefined (the async path streams it). With `knownSize` (just stat'ed) it stops at that size,
 * saving the read that would return 0.
 */
function readWholeSync(fd: number, knownSize?: number): Buffer | undefined {
  if (knownSize !== undefined && knownSize >= CHUNK_BYTES) return undefined;
  syncBuffer ??= Buffer.allocUnsafe(CHUNK_BYTES + 1);
  let filled = 0;
  for (;;) {
    if (knownSize !== undefined && filled === knownSize) break;
    const read = readSync(fd, syncBuffer, filled, syncBuffer.length - filled, filled);
    if (read === 0) break;
    filled += read;
    if (filled === syncBuffer.length) return undefined; // bigger than one chunk
  }
  return syncBuffer.subarray(0, filled);
}

function zipMemberSync(path: string, whole: Buffer, wants: (names: ZipEntry[]) => ZipEntry | undefined): Buffer | undefined | 'zip64' {
  try {
    const entries = listZipEntries(whole);
    if (entries === undefined) return 'zip64';
    const entry = wants(entries);
    return entry === undefined ? undefined : readZipEntry(whole, entry, MAX_METADATA_BYTES);
  } catch (error) {
    if (error instanceof ZipMemberError) throw broken(path, error.message, error);
    throw error;
  }
}

/**
 * inspectDistribution of the file open as `fd` (named `path` in errors) without any async round trip, for the common case of a file that fits in
 * one read (the indexer inspects tens of thousands of them). Returns undefined when the file
 * needs the streaming path (bigger than one read, zip64, an sdist that inflates past the
 * in-memory limit); same results and errors as inspectDistribution otherwise.
 */
export function inspectDistributionSync(fd: number, path: string, filename: DistFilename, knownSize?: number): InspectedDistribution | undefined {
  const whole = readWholeSync(fd, knownSize);
  return whole === undefined ? undefined : inspectWholeSync(path, filename, whole);
}

/**
 * inspectDistributionSync on bytes already in memory (a download that just streamed them), with their sha256
 * when known; `path` names the file in errors and picks the sdist format.
 */
export function inspectWholeSync(path: string, filename: DistFilename, whole: Buffer, knownSha256?: string): InspectedDistribution | undefined {
  const sha256 = knownSha256 ?? createHash('sha256').update(whole).digest('hex');
  const size = whole.length;
  if (filename.kind === 'wheel') {
    const metadata = zipMemberSync(path, whole, (entries) => wheelMetadataEntry(entries, filename));
    if (metadata === 'zip64') return undefined;
    if (metadata === undefined) throw broken(path, `no ${filename.name}-${filename.version}.dist-info/METADATA in the wheel`);
    const core = parseCoreMetadata(metadata, path);
    checkWheelCore(core, filename, path);
    return { filename, size, sha256, metadata, metadataSha256: createHash('sha256').update(metadata).digest('hex'), core };
  }
  if (path.endsWith('.zip')) {
    const pkgInfo = zipMemberSync(path, whole, (entries) => entries.find((e) => isTopPkgInfo(e.name)));
    if (pkgInfo === 'zip64') return undefined;
    return { filename, size, sha256, ...sdistCore(pkgInfo, path) };
  }
  const isGzip = path.endsWith('.tar.gz') || path.endsWith('.tgz');
  if (isGzip || path.endsWith('.tar')) {
    const scanner = scanWholeTar(whole, isGzip, path);
    if (scanner === undefined) return undefined;
    return { filename, size, sha256, ...sdistCore(scanner.found?.data, path) };
  }
  return { filename, size, sha256 };
}
