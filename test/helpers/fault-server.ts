// Test fixtures: HTTP servers on the loopback that misbehave on demand, for the clients that must survive them.
// - startFaultUpstream: a simple-index upstream serving a mirror directory itself (JSON pages by Accept,
//   files) that can answer 500, stall, never answer, redirect to a Location that is no URL, send wrong
//   bytes or cut a download in the middle; counts requests.
// - startFaultProxy: a proxy in front of a real upstream (nginx) that injects faults on chosen paths:
//   HTTP 500s (a few times or always), a stalled body, a delay, or an added response header;
//   everything else passes through untouched.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';

interface Listening extends AsyncDisposable {
  /** `http://127.0.0.1:PORT/` */
  url: string;
  /** Stops listening and drops every connection, answered or not; a second call waits for the first. */
  close(): Promise<void>;
}

/** Listen on a free loopback port; closing destroys the open connections (a stalled or hung answer included). */
async function listenOnLoopback(server: Server): Promise<Listening> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
    return closing;
  };
  return { url, close, [Symbol.asyncDispose]: close };
}

export type FaultMode = 'ok' | 'error-500' | 'slow' | 'hang' | 'bad-location' | 'wrong-bytes' | 'cut';

export interface FaultUpstream extends Listening {
  /** What the next requests get (pages and files alike, unless `filesOnly`). */
  mode: FaultMode;
  filesOnly: boolean;
  /** How long `slow` stalls before answering. */
  slowMs: number;
  /** Pages in HTML whatever the Accept header (no PEP 700 sizes), and files without Content-Length (chunked). */
  htmlOnly: boolean;
  chunked: boolean;
  /** Requests seen, by path. */
  hits: Map<string, number>;
}

type UpstreamState = Omit<FaultUpstream, keyof Listening>;

function answerFromMirror(root: string, state: UpstreamState, mode: FaultMode, req: IncomingMessage, res: ServerResponse, path: string): void {
  if (mode === 'error-500') {
    res.writeHead(500).end('upstream broke\n');
    return;
  }
  if (mode === 'bad-location') {
    // Header strings go out as Latin-1: these are the UTF-8 bytes of U+20AC, an invalid IPv6 host.
    res.writeHead(302, { Location: 'http://[\u00e2\u0082\u00ac]/' }).end();
    return;
  }
  const isPage = path.endsWith('/');
  const wantsJson = !state.htmlOnly && (req.headers.accept ?? '').includes('application/vnd.pypi.simple.v1+json');
  const file = isPage ? join(root, path, wantsJson ? 'index.json' : 'index.html') : join(root, path);
  if (path.includes('..') || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404).end('not found\n');
    return;
  }
  const size = statSync(file).size;
  if (isPage) {
    res.writeHead(200, { 'Content-Type': wantsJson ? 'application/vnd.pypi.simple.v1+json' : 'text/html', 'Content-Length': size }).end(readFileSync(file));
    return;
  }
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', ...(state.chunked ? {} : { 'Content-Length': size }) });
  if (mode === 'wrong-bytes') {
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff;
    res.end(bytes);
  } else if (mode === 'cut') {
    res.write(readFileSync(file).subarray(0, Math.floor(size / 2)));
    setTimeout(() => res.socket?.destroy(), 50);
  } else createReadStream(file).pipe(res);
}

/** An upstream serving the mirror directory `root`, misbehaving as its `mode` says. */
export async function startFaultUpstream(root: string): Promise<FaultUpstream> {
  const state: UpstreamState = { mode: 'ok', filesOnly: false, slowMs: 5000, htmlOnly: false, chunked: false, hits: new Map() };
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] as string);
    state.hits.set(path, (state.hits.get(path) ?? 0) + 1);
    const mode = state.filesOnly && path.endsWith('/') ? 'ok' : state.mode;
    const answer = () => answerFromMirror(root, state, mode, req, res, path);
    if (mode === 'slow') setTimeout(answer, state.slowMs);
    else if (mode !== 'hang') answer(); // hang: the connection is accepted and never answered
  });
  return Object.assign(state, await listenOnLoopback(server));
}

export type Fault =
  | { kind: 'status'; status: number; times: number }
  | { kind: 'stall' }
  | { kind: 'delay'; ms: number }
  | { kind: 'header'; name: string; value: string };

export interface FaultRule {
  /** Matched against the request path. */
  path: RegExp;
  fault: Fault;
}

export interface FaultProxy extends Listening {
  /** Paths requested, in order, with the status answered. */
  log: { path: string; status: number }[];
}

/** A proxy that forwards to `upstream` (an `http://127.0.0.1:PORT/` URL), faults on the paths of `rules`. */
export async function startFaultProxy(upstream: string, rules: FaultRule[]): Promise<FaultProxy> {
  const target = new URL(upstream);
  const log: FaultProxy['log'] = [];
  const counts = new Map<FaultRule, number>();
  const forward = (req: IncomingMessage, res: ServerResponse, extra: Record<string, string> = {}) => {
    const out = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      log.push({ path: req.url ?? '', status: answer.statusCode ?? 0 });
      res.writeHead(answer.statusCode ?? 502, { ...answer.headers, ...extra });
      answer.pipe(res);
    });
    out.on('error', () => {
      log.push({ path: req.url ?? '', status: 502 });
      res.writeHead(502).end();
    });
    out.end();
  };
  const server = createServer((req, res) => {
    const rule = rules.find((r) => r.path.test(req.url ?? ''));
    const fault = rule?.fault;
    if (rule && fault?.kind === 'status' && (counts.get(rule) ?? 0) < fault.times) {
      counts.set(rule, (counts.get(rule) ?? 0) + 1);
      log.push({ path: req.url ?? '', status: fault.status });
      res.writeHead(fault.status, { 'content-type': 'text/plain' }).end('injected fault\n');
      return;
    }
    if (fault?.kind === 'stall') {
      log.push({ path: req.url ?? '', status: 200 });
      res.writeHead(200, { 'content-type': 'application/octet-stream' }); // chunked: no length to check early
      res.write('x'); // then nothing: the client must time out
      return;
    }
    if (fault?.kind === 'header') {
      forward(req, res, { [fault.name]: fault.value });
      return;
    }
    if (fault?.kind === 'delay') {
      setTimeout(() => forward(req, res), fault.ms);
      return;
    }
    forward(req, res);
  });
  return { log, ...(await listenOnLoopback(server)) };
}
