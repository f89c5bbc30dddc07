// Limits that keep the server up under idle or slow connections: a cap on open sockets that evicts the longest-idle one, and a deadline for a request's headers.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionLimits {
  /** Open connections at most (default 1024). */
  maxConnections?: number;
  /** A connection that has not sent a whole request head this long after connecting (or after its last answer) is closed (default 10 s). */
  headersTimeoutMs?: number;
  /** How often idle connections are swept (default a quarter of headersTimeoutMs, at most 1 s). */
  sweepMs?: number;
}

export const DEFAULT_MAX_CONNECTIONS = 1024;
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;

interface State {
  /** Requests being answered on the socket. */
  busy: number;
  /** When the socket connected or last went idle (ms). */
  since: number;
}

/**
 * Watch the server's connections. A new connection past `maxConnections` closes the connection
 * idle the longest (connected or between requests without a request in progress, e.g. one that
 * never sends a byte) instead of being refused itself; only when every connection is busy is the
 * new one closed. Idle connections are closed after `headersTimeoutMs` (node's own headersTimeout
 * does not cover a socket that sends nothing). So thousands of idle sockets cannot keep a
 * well-behaved client out. Returns a function that stops the sweeping.
 */
export function guardConnections(server: Server, limits: ConnectionLimits = {}): { stop: () => void; count: () => number } {
  const max = Math.max(1, limits.maxConnections ?? DEFAULT_MAX_CONNECTIONS);
  const timeoutMs = limits.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  // Oldest first: a Map iterates in insertion order, and a socket is re-inserted whenever it goes idle.
  const sockets = new Map<Socket, State>();
  const setIdle = (socket: Socket, state: State) => {
    state.since = Date.now();
    sockets.delete(socket);
    sockets.set(socket, state);
  };

  server.on('connection', (socket: Socket) => {
    if (sockets.size >= max && !evictIdle(sockets)) {
      socket.destroy();
      return;
    }
    const state: State = { busy: 0, since: Date.now() };
    sockets.set(socket, state);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('request', (req, res) => {
    const socket = tcpSocketOf(req.socket);
    const state = sockets.get(socket);
    if (state === undefined) return;
    state.busy++;
    res.once('close', () => {
      state.busy--;
      if (state.busy === 0 && sockets.has(socket)) setIdle(socket, state);
    });
  });
  const sweep = setInterval(
    () => {
      const cutoff = Date.now() - timeoutMs;
      for (const [socket, state] of sockets) {
        if (state.since > cutoff) break; // the rest went idle later
        if (state.busy === 0) {
          sockets.delete(socket);
          socket.destroy();
        }
      }
    },
    limits.sweepMs ?? Math.min(1000, Math.max(50, timeoutMs / 4)),
  );
  sweep.unref();
  server.once('close', () => clearInterval(sweep));
  return { stop: () => clearInterval(sweep), count: () => sockets.size };
}

/** The TCP connection a request came on: its socket, or for HTTPS the one under the TLS socket (which node keeps as `_parent`). */
function tcpSocketOf(socket: Socket): Socket {
  return (socket as Socket & { _parent?: Socket | null })._parent ?? socket;
}

/** Close the connection idle the longest; false when every connection is busy. */
function evictIdle(sockets: Map<Socket, State>): boolean {
  for (const [socket, state] of sockets) {
    if (state.busy > 0) continue;
    sockets.delete(socket);
    socket.destroy();
    return true;
  }
  return false;
}
