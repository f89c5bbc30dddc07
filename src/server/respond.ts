// Writing responses: a body from memory, a byte range streamed from disk, a short error text.
import { open, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DiskEntry } from './disk-cache.js';

/** Answer with `body` (none for 304 and HEAD; Content-Length always right). */
export function sendBody(req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string>, body: Buffer | undefined): void {
  const length = body?.length ?? 0;
  res.writeHead(status, status === 304 ? headers : { ...headers, 'Content-Length': String(length) });
  if (req.method === 'HEAD' || status === 304 || body === undefined) res.end();
  else res.end(body);
}

/**
 * Text from outside (an upstream's error, a Location it sent) made fit for a response header:
 * printable ASCII only (Node refuses a header with a character beyond Latin-1, and CR/LF would
 * split it), each run of anything else one `?`, whitespace collapsed, at most `max` characters.
 */
export function toHeaderText(text: string, max = 200): string {
  const clean = text
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]+/g, '?')
    .trim();
  return clean.length <= max ? clean : `${clean.slice(0, max - 3)}...`;
}

/** A plain-text error page. */
export function sendError(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
  sendBody(req, res, status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }, Buffer.from(`${message}\n`));
}

/**
 * Stream bytes `start..end` of a file too big to keep in memory, read in chunks from one open file
 * handle. When the file changed since it was looked at (another size), `onStale` is called and the
 * response fails with 503, so that the client retries and the next request sees the new file.
 */
export async function sendStream(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  entry: DiskEntry,
  start: number,
  end: number,
  onStale: () => void,
): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(entry.path, 'r');
  } catch {
    onStale();
    return sendError(req, res, 503, 'the file changed while it was being served; retry');
  }
  const facts = await handle.stat();
  if (facts.size !== entry.size || facts.ino !== entry.ino) {
    await handle.close();
    onStale();
    return sendError(req, res, 503, 'the file changed while it was being served; retry');
  }
  res.writeHead(status, { ...headers, 'Content-Length': String(end - start + 1) });
  if (req.method === 'HEAD' || end < start) {
    await handle.close();
    res.end();
    return;
  }
  try {
    await copyRange(handle, res, start, end);
    res.end();
  } catch {
    res.destroy(); // the client went away, or the file could not be read: the response is cut, not completed
  } finally {
    await handle.close();
  }
}

/** Bytes read and written per step of a stream: one buffer per response. */
const CHUNK = 128 * 1024;

/**
 * Copy bytes `start..end` of `handle` to `res` through one buffer, reused once the socket has taken
 * each chunk (the write callback). A read stream piped to the response allocates a new buffer per
 * chunk instead, and V8 collects those only after tens of megabytes of them, so concurrent
 * downloads of large files grow the server; this way a download holds CHUNK bytes.
 */
async function copyRange(handle: FileHandle, res: ServerResponse, start: number, end: number): Promise<void> {
  const buffer = Buffer.allocUnsafeSlow(Math.min(CHUNK, end - start + 1));
  const closed = new Promise<never>((_resolve, reject) => res.once('close', () => reject(new Error('the client closed the connection'))));
  closed.catch(() => undefined);
  for (let position = start; position <= end; ) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, end - position + 1), position);
    if (bytesRead === 0) throw new Error('the file is shorter than it was');
    position += bytesRead;
    const chunk = bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
    await Promise.race([closed, new Promise<void>((resolve, reject) => res.write(chunk, (error) => (error ? reject(error) : resolve())))]);
  }
}
