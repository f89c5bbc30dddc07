// A simple-index upstream for tests that can misbehave on demand: serves a mirror directory (JSON pages by
// Accept, files), and can answer 500, stall, never answer, redirect to a Location that is no URL, send wrong bytes
// or cut a download in the middle. Counts requests.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';

export type FaultMode = 'ok' | 'error-500' | 'slow' | 'hang' | 'bad-location' | 'wrong-bytes' | 'cut';

export interface FaultUpstream extends AsyncDisposable {
  url: string;
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
  close: () => Promise<void>;
}

export async function startFaultUpstream(root: string): Promise<FaultUpstream> {
  const sockets = new Set<import('node:net').Socket>();
  const state: Omit<FaultUpstream, 'url' | 'close' | typeof Symbol.asyncDispose> = { mode: 'ok', filesOnly: false, slowMs: 5000, htmlOnly: false, chunked: false, hits: new Map() };
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] as string);
    state.hits.set(path, (state.hits.get(path) ?? 0) + 1);
    const isPage = path.endsWith('/');
    const mode = state.filesOnly && isPage ? 'ok' : state.mode;
    const answer = () => {
      if (mode === 'error-500') {
        res.writeHead(500).end('upstream broke\n');
        return;
      }
      if (mode === 'bad-location') {
        // Header strings go out as Latin-1: these are the UTF-8 bytes of U+20AC, an invalid IPv6 host.
        res.writeHead(302, { Location: 'http://[\u00e2\u0082\u00ac]/' }).end();
        return;
      }
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
    };
    if (mode === 'slow') setTimeout(answer, state.slowMs);
    else if (mode !== 'hang') answer(); // hang: the connection is accepted and never answered
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const close = () =>
    new Promise<void>((done) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => done());
    });
  const upstream = Object.assign(state, { url: `http://127.0.0.1:${port}/`, close, [Symbol.asyncDispose]: close }) as FaultUpstream;
  return upstream;
}
