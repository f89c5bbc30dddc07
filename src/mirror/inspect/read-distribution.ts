// What every inspection shares: its limits and options, the broken-file error, and the one read that hashes a distribution file (whole in memory when it fits).
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { BrokenDistributionError } from '../../pypi/errors.js';

/**
 * Read size: a file that fits in one read is then parsed from memory (most wheels and sdists are
 * smaller), a larger one is streamed through this buffer and its zip directory read by position.
 */
export const CHUNK_BYTES = 1024 * 1024;
/** A METADATA or PKG-INFO larger than this is not metadata (the largest on PyPI are a few MB of description). */
export const MAX_METADATA_BYTES = 32 * 1024 * 1024;

/**
 * Stricter checks for a file that comes from outside (an upload), on top of the indexer's:
 * - `strict`: every archive member's name is checked (no absolute path, no `..`, no link out of
 *   the archive, no device), and an sdist must have a top-level PKG-INFO that parses;
 * - `maxInflatedBytes`: a `.tar.gz` that inflates past this is refused (a gzip bomb).
 */
export interface InspectOptions {
  strict?: boolean;
  maxInflatedBytes?: number;
}

/** An open distribution file, with the read buffer lent to it for this inspection. */
export interface OpenFile {
  path: string;
  handle: FileHandle;
  buffer: Buffer;
  options: InspectOptions;
}

export function broken(path: string, reason: string, cause?: unknown): BrokenDistributionError {
  return new BrokenDistributionError(path, reason, cause === undefined ? undefined : { cause });
}

export function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

/** What hashFile read. */
export interface HashedFile {
  size: number;
  sha256: string;
  /** The whole file (a view of the lent buffer), when it fit in it. */
  whole: Buffer | undefined;
}

/** Fill the lent buffer from the start of the file; `isWhole` when the file ended inside it. */
export async function readFirstChunk({ handle, buffer }: OpenFile): Promise<{ first: Buffer; isWhole: boolean }> {
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
    if (bytesRead === 0) return { first: buffer.subarray(0, filled), isWhole: true };
    filled += bytesRead;
  }
  return { first: buffer, isWhole: false };
}

/** sha256 and size in one streaming read through the lent buffer; the bytes themselves when the file fits in it. */
export async function hashFile(file: OpenFile): Promise<HashedFile> {
  const { first, isWhole } = await readFirstChunk(file);
  const hash = createHash('sha256').update(first);
  let size = first.length;
  if (isWhole) return { size, sha256: hash.digest('hex'), whole: first };
  const { handle, buffer } = file;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    size += bytesRead;
  }
  return { size, sha256: hash.digest('hex'), whole: undefined };
}
