// Answering a request whose body is not wanted: close the connection after the answer instead of reading hundreds of MB nobody asked for.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** After the answer, what the client still sends is read (and dropped) this long, at most this much, before the connection is cut. */
export const LINGER_MS = 2000;
export const LINGER_BYTES = 4 * 1024 * 1024;

/**
 * Close as nginx's lingering close does: our FIN first, then a short, bounded read of what the
 * client is still sending, then the cut. Cut at once, the client's unread bytes would make the
 * kernel answer with a reset that can destroy the answer before the client has read it.
 */
function lingerThenClose(socket: Socket): void {
  socket.end();
  let seen = 0;
  const cut = setTimeout(() => socket.destroy(), LINGER_MS);
  socket.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > LINGER_BYTES) socket.destroy();
  });
  socket.once('close', () => clearTimeout(cut));
  socket.resume();
}

/** Whether the request announces a body (Content-Length above 0, or chunked). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Make the coming answer the last on this connection, and its body unread: `Connection: close`,
 * and once the answer is written (node then calls destroySoon) a lingering close, which reads at
 * most LINGER_BYTES or LINGER_MS of what the client still sends. Call before the answer is written.
 */
export function closeAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Connection', 'close');
  res.shouldKeepAlive = false;
  const socket = req.socket;
  socket.destroySoon = () => lingerThenClose(socket);
}
