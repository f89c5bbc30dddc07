// A verified download: streamed to a temp file beside the target while hashed, renamed into place only when the
// digest matches, the temp removed otherwise. A reader never sees a partial or unverified file under the final name.
import { createHash } from 'node:crypto';
import { closeSync, fsync, mkdirSync, openSync, writeSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { DibPypiError } from '../errors.js';
import { dirname } from 'node:path';
import { redact } from '../redact.js';
import { headerValue } from './dispatch-get.js';
import { isTransientStatus, networkError, type HttpTransport } from './http-transport.js';
import { UpstreamError } from './simple-model.js';
import { partPathFor } from './part-path.js';

export interface DownloadRequest {
  url: string;
  /** The final path. */
  target: string;
  /** The algorithm (hashlib name) and hex digest the bytes must have. */
  algorithm: string;
  digest: string;
  /** When known: a different length is a mismatch too. */
  size?: number;
  /** The most bytes accepted: a bigger file (by the index, the announced length or the bytes so far) fails before the first byte past it is kept. */
  maxBytes?: number;
  headers: Record<string, string>;
  /**
   * 'rename' (default): fsync the verified temp file and rename it to `target`. 'keep-temp': leave the
   * verified, closed, not fsynced temp file for the caller to commit or remove; `temp` in the result
   * names it. 'memory': a file of at most `memoryUpTo` bytes is not written at all, its verified bytes
   * come back as `data` (sync's writer thread writes and commits them: src/mirror/sync-writer.ts); a
   * bigger one is written as with 'keep-temp'.
   */
  commit?: 'rename' | 'keep-temp' | 'memory';
  /** With commit 'memory': the most bytes a download returns in memory. */
  memoryUpTo?: number;
  /** Make the target's directory first when it is missing (after the upstream has answered 200). */
  makeParent?: boolean;
  /**
   * Also stream the bytes to a client while they are written (serve's pull-through cache): `start` once
   * the upstream has answered (before any byte), `write` for each chunk but the last, which is held back
   * and returned as `heldBack`, to be sent once the file is verified and in place: a client never
   * receives the whole of a file that turned out wrong.
   */
  tee?: DownloadTee;
}

export interface DownloadTee {
  start(announced: number | undefined): void;
  /** A promise holds the upstream connection until it settles (the client's socket is full). */
  write(chunk: Buffer): void | Promise<void>;
}

export interface DownloadResult {
  bytes: number;
  /** With `tee`: the last chunk, not yet sent. */
  heldBack?: Buffer;
  /** With commit 'keep-temp' (or 'memory', for a file too big for memory): the verified temp file beside the target. */
  temp?: string;
  /** With commit 'memory': the verified bytes, when there were at most memoryUpTo. */
  data?: Buffer;
}

/** A downloaded file whose bytes are not what the upstream's page promised. Not transient: the same URL gives the same bytes. */
export class HashMismatchError extends UpstreamError {
  constructor(url: string, expected: string, actual: string, detail: string) {
    super(url, `${detail}: expected ${expected}, got ${actual}`, { isTransient: false });
  }
}

/** A file bigger than the caller's limit. Not transient: the same URL gives the same size. */
export class TooLargeError extends UpstreamError {
  constructor(url: string, limit: number, seen: string) {
    super(url, `larger than the limit of ${limit} bytes (${seen})`, { isTransient: false });
  }
}

/** GET `request.url` into `request.target`, verified; throws UpstreamError (transient or not) and leaves nothing behind on failure. */
export async function downloadVerified(transport: HttpTransport, request: DownloadRequest): Promise<DownloadResult> {
  const shown = redact(request.url);
  const limit = request.maxBytes ?? Infinity;
  if (request.size !== undefined && request.size > limit) throw new TooLargeError(shown, limit, `the index says ${request.size} bytes`);
  const response = await transport.get(request.url, { accept: '*/*', 'accept-encoding': 'identity', ...request.headers });
  if (response.status !== 200) {
    await response.body.dump();
    throw new UpstreamError(shown, `HTTP ${response.status}`, { status: response.status, isTransient: isTransientStatus(response.status) });
  }
  const announced = Number(headerValue(response.headers, 'content-length') ?? NaN);
  if (request.size !== undefined && Number.isFinite(announced) && announced !== request.size) {
    await response.body.dump();
    throw new HashMismatchError(shown, `${request.size} bytes`, `${announced}`, 'size differs from the index');
  }
  if (announced > limit) {
    await response.body.cancel();
    throw new TooLargeError(shown, limit, `Content-Length ${announced}`);
  }
  const toMemory = request.commit === 'memory';
  const memoryUpTo = toMemory ? (request.memoryUpTo ?? 0) : -1;
  // The create and the writes are plain synchronous calls: with no fsync per file (sync journals instead)
  // a create is cheap, while a thread-pool round trip wakes a pool thread that, on a small machine,
  // preempts this one (bench/mirror-sync.ts measures the difference).
  const openTemp = (): TempFile => {
    if (request.makeParent === true) mkdirSync(dirname(request.target), { recursive: true });
    const path = partPathFor(request.target);
    return { path, fd: openSync(path, 'wx', 0o644) };
  };
  let file: TempFile | undefined = toMemory ? undefined : openTemp();
  request.tee?.start(Number.isFinite(announced) ? announced : undefined);
  let held: Buffer | undefined;
  const hash = createHash(request.algorithm);
  let bytes = 0;
  let kept: Buffer[] | undefined = toMemory ? [] : undefined;
  let isHandedOver = false;
  try {
    try {
      // Each chunk is hashed and kept or written as it arrives (no stream per response); a tee's write
      // promise holds the connection until the client took the chunk before.
      // biome-ignore lint/suspicious/useIterableCallbackReturn: ResponseBody.forEach, not an array's: a returned promise pauses the connection
      await response.body.forEach((chunk) => {
        bytes += chunk.length;
        if (bytes > limit) throw new TooLargeError(shown, limit, `more than ${limit} bytes sent`); // ends the request
        hash.update(chunk);
        if (kept !== undefined && bytes <= memoryUpTo) kept.push(chunk);
        else {
          if (file === undefined) {
            file = openTemp(); // too big for memory after all: what came so far goes to the file first
            for (const early of kept ?? []) writeAll(file.fd, early, file.path);
            kept = undefined;
          }
          writeAll(file.fd, chunk, file.path);
        }
        if (request.tee === undefined) return undefined;
        const before = held;
        held = chunk;
        return before === undefined ? undefined : request.tee.write(before);
      });
    } catch (error) {
      throw error instanceof DibPypiError ? error : networkError(request.url, error, transport.timeoutMs);
    }
    const actual = hash.digest('hex');
    if (actual !== request.digest) throw new HashMismatchError(shown, `${request.algorithm} ${request.digest}`, actual, 'hash mismatch');
    if (request.size !== undefined && bytes !== request.size)
      throw new HashMismatchError(shown, `${request.size} bytes`, `${bytes}`, 'size differs from the index');
    const heldBack = held === undefined ? {} : { heldBack: held };
    if (file === undefined) {
      isHandedOver = true;
      return { bytes, data: kept?.length === 1 ? (kept[0] as Buffer) : Buffer.concat(kept ?? [], bytes), ...heldBack };
    }
    const { fd, path } = file;
    file = undefined; // closed below, whatever happens
    if (request.commit === 'keep-temp' || toMemory) {
      closeSync(fd);
      isHandedOver = true;
      return { bytes, temp: path, ...heldBack };
    }
    let isClosed = false;
    try {
      await fsyncFd(fd);
      isClosed = true;
      closeSync(fd);
      await rename(path, request.target);
    } catch (error) {
      if (!isClosed) closeSync(fd);
      await rm(path, { force: true });
      throw error;
    }
    isHandedOver = true;
    return { bytes, ...heldBack };
  } finally {
    if (!isHandedOver && file !== undefined) {
      closeSync(file.fd);
      await rm(file.path, { force: true });
    }
  }
}

interface TempFile {
  path: string;
  fd: number;
}

/** Write a whole chunk; a file-system failure (disk full) is ours to report, not the upstream's. */
function writeAll(fd: number, chunk: Buffer, path: string): void {
  try {
    for (let offset = 0; offset < chunk.length; ) offset += writeSync(fd, chunk, offset);
  } catch (error) {
    throw new DibPypiError(`cannot write ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** fsync on the thread pool: it may wait for the disk. */
function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())));
}
