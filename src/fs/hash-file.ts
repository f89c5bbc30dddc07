// sha256 of a file, streamed: never the whole file in memory.
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';

export async function sha256File(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

const CHUNK = Buffer.allocUnsafe(1 << 20);

/**
 * sha256File with blocking reads into one reused buffer: for a caller hashing many small files in a row with
 * nothing else to do meanwhile, a stream's per-file setup and event-loop round trips cost many times the hashing.
 */
export function sha256FileSync(path: string): { sha256: string; size: number } {
  const hash = createHash('sha256');
  let size = 0;
  const fd = openSync(path, 'r');
  try {
    for (let n = readSync(fd, CHUNK, 0, CHUNK.length, null); n > 0; n = readSync(fd, CHUNK, 0, CHUNK.length, null)) {
      hash.update(CHUNK.subarray(0, n));
      size += n;
    }
  } finally {
    closeSync(fd);
  }
  return { sha256: hash.digest('hex'), size };
}
