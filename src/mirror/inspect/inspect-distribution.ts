// Inspect one distribution file: hash it in one streaming read, and take its core metadata from the archive (the mirror's only reader of distribution bytes).
import { open } from 'node:fs/promises';
import type { DistFilename, InspectedDistribution } from '../../pypi/types.js';
import { inspectTarSdist } from './inspect-tar.js';
import { inspectWheel, inspectZipSdist } from './inspect-zip.js';
import { CHUNK_BYTES, hashFile, type InspectOptions, type OpenFile } from './read-distribution.js';

/** Read buffers kept for reuse: thousands of fresh 1 MiB buffers make V8 collect far more often than the work needs. */
const MAX_SPARE_BUFFERS = 16;
const spareBuffers: Buffer[] = [];

async function inspectOtherSdist(file: OpenFile, filename: DistFilename): Promise<InspectedDistribution> {
  const { size, sha256 } = await hashFile(file);
  return { filename, size, sha256 };
}

/**
 * Inspect the distribution file at `path` (its name parsed as `filename`): sha256 and size from
 * one streaming read (memory stays flat however large the file), and core metadata:
 * - wheels: the exact bytes of `.dist-info/METADATA`, parsed; a wheel without it, a damaged zip,
 *   or METADATA naming another project or version throws `BrokenDistributionError`;
 * - `.tar.gz` / `.tgz` / `.tar` / `.zip` sdists: `<top>/PKG-INFO` parsed, when there is one and
 *   the file name can be its project's (`sdistNameMatches`; old sdists have none); a truncated
 *   or damaged archive throws;
 * - `.tar.bz2` / `.tar.xz` sdists: hashed only.
 * I/O errors (ENOENT, EACCES, EISDIR) are thrown as they are. With `source`, the bytes are read from
 * there (a download's temp file) while `path` still names the file and picks its format.
 * `options` adds the checks an upload needs (InspectOptions).
 */
export async function inspectDistribution(path: string, filename: DistFilename, source = path, options: InspectOptions = {}): Promise<InspectedDistribution> {
  const handle = await open(source, 'r');
  const file: OpenFile = { path, handle, buffer: spareBuffers.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES), options };
  try {
    if (filename.kind === 'wheel') return await inspectWheel(file, filename);
    if (path.endsWith('.zip')) return await inspectZipSdist(file, filename);
    if (path.endsWith('.tar.gz') || path.endsWith('.tgz')) return await inspectTarSdist(file, filename, true);
    if (path.endsWith('.tar')) return await inspectTarSdist(file, filename, false);
    return await inspectOtherSdist(file, filename);
  } finally {
    await handle.close();
    // Nothing returned views the buffer: member bytes are copied out, `whole` stays inside.
    if (spareBuffers.length < MAX_SPARE_BUFFERS) spareBuffers.push(file.buffer);
  }
}
