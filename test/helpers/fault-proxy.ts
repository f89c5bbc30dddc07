// Test fixture: a tiny HTTP proxy in front of a real upstream (nginx) that injects faults on chosen paths:
// HTTP 500s (a few times or always), a stalled body, a delay, or an added response header. Everything else passes through untouched.
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = { kind: 'status'; status: number; times: number } | { kind: 'stall' } | { kind: 'delay'; ms: number } | { kind: 'header'; name: string; value: string };

export interface FaultRule {
  /** Matched against the request path. */
  path: RegExp;
  fault: Fault;
}

export interface FaultProxy extends AsyncDisposable {
  url: string;
  /** Paths requested, in order, with the status answered. */
  log: { path: string; status: number }[];
  stop(): Promise<void>;
}

/** Start a proxy on a free loopback port that forwards to `upstream` (an `http://127.0.0.1:PORT/` URL). */
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
    return stopping;
  };
  return { url, log, stop, [Symbol.asyncDispose]: stop };
}
