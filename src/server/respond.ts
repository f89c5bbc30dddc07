// Writing responses: a body from memory, a byte range streamed from disk, a short error text.
import { open } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DiskEntry } from './disk-cache.js';

/** Answer with `body` (none for 304 and HEAD; Content-Length always right). */
export function sendBody(req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string>, body: Buffer | undefined): void {
  const length = body?.length ?? 0;
  res.writeHead(status, status === 304 ? headers : { ...headers, 'Content-Length': String(length) });
  if (req.method === 'HEAD' || status === 304 || body === undefined) res.end();
  else res.end(body);
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
  let handle;
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
  const stream = handle.createReadStream({ start, end, highWaterMark: 64 * 1024 });
  stream.on('error', () => res.destroy());
  res.on('close', () => stream.destroy());
  stream.pipe(res);
}
