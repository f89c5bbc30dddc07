// The upstream transport's own dispatch handler: redirects (credentials kept to the same origin only),
// bodies handed to one consumer with backpressure, consumer and network failures, raw headers.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { headersFromRaw } from '../../../src/upstream/dispatch-get.js';
import { HttpTransport } from '../../../src/upstream/http-transport.js';
import { UpstreamError } from '../../../src/upstream/simple-model.js';

async function withServer(listener: RequestListener, run: (base: string, transport: HttpTransport) => Promise<void>): Promise<void> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const transport = new HttpTransport({ connections: 2, timeoutMs: 2_000, userAgent: 'dib-pypi-test' });
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, transport);
  } finally {
    await transport.close();
    server.closeAllConnections();
    server.close();
  }
}

test('redirects are followed up to 5 times; authorization goes to the same origin only', { timeout: 20_000 }, async () => {
  const seen: { url: string; authorization?: string }[] = [];
  const other = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push({ url: `other${req.url}`, ...(req.headers.authorization === undefined ? {} : { authorization: req.headers.authorization }) });
    res.end('from the other origin');
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  const otherBase = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
  try {
    await withServer(
      (req, res) => {
        seen.push({ url: req.url as string, ...(req.headers.authorization === undefined ? {} : { authorization: req.headers.authorization }) });
        const loop = /^\/loop(\d+)$/.exec(req.url as string);
        if (req.url === '/a') res.writeHead(301, { location: '/b' }).end('moved');
        else if (req.url === '/b') res.writeHead(307, { location: `${otherBase}/c` }).end();
        else if (loop) res.writeHead(302, { location: `/loop${Number(loop[1]) + 1}` }).end();
        else res.end('here');
      },
      async (base, transport) => {
        const response = await transport.get(`${base}/a`, { authorization: 'Basic c2VjcmV0' });
        assert.equal(response.status, 200);
        assert.equal(await response.body.text(), 'from the other origin');
        assert.deepEqual(seen, [
          { url: '/a', authorization: 'Basic c2VjcmV0' },
          { url: '/b', authorization: 'Basic c2VjcmV0' },
          { url: 'other/c' }, // another origin: no credentials
        ]);
        // A sixth redirect is not followed: the caller sees it (and reports its status).
        const looping = await transport.get(`${base}/loop0`, {});
        assert.equal(looping.status, 302);
        assert.equal(looping.headers.location, '/loop6');
        await looping.body.dump();
      },
    );
  } finally {
    other.close();
  }
});

test('a redirect to a Location that is no URL is an UpstreamError naming the status, not a bare TypeError', { timeout: 20_000 }, async () => {
  await withServer(
    (req, res) => (req.url === '/b' ? res.end('here') : res.writeHead(302, { location: 'http://[not-a-host/x' }).end('moved')),
    async (base, transport) => {
      await assert.rejects(transport.get(`${base}/a`, {}), (error: unknown) => {
        assert.ok(error instanceof UpstreamError, String(error));
        assert.equal(error.status, 302);
        assert.equal(error.isTransient, false);
        assert.match(error.message, /\/a: HTTP 302 redirects to an invalid Location \("http:\/\/\[not-a-host\/x"\)/);
        return true;
      });
      // The connection was left clean: the next request on it works.
      const next = await transport.get(`${base}/b`, {});
      assert.equal(await next.body.text(), 'here');
    },
  );
});

test('a body is handed over in order; a consumer promise pauses the connection until it settles', { timeout: 20_000 }, async () => {
  const chunk = Buffer.alloc(64 * 1024);
  const total = 40; // 2.5 MB: more than the transport holds before pausing, in many socket reads
  await withServer(
    (_req, res) => {
      res.writeHead(200, { 'content-length': String(chunk.length * total) });
      let sent = 0;
      const more = () => {
        while (sent < total) {
          chunk.fill(sent % 251);
          sent++;
          if (!res.write(Buffer.from(chunk))) return void res.once('drain', more);
        }
        res.end();
      };
      more();
    },
    async (base, transport) => {
      const response = await transport.get(`${base}/big`, {});
      // Not consumed for a while: the transport holds what came and pauses; nothing is lost.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const received: Buffer[] = [];
      // A promise for every chunk (as a tee to a slow client gives): each pauses and resumes the connection.
      // biome-ignore lint/suspicious/useIterableCallbackReturn: ResponseBody.forEach waits for the promise it is given back
      await response.body.forEach((data) => {
        assert.ok(data.length > 0, 'no empty chunk is handed over');
        received.push(Buffer.from(data));
        // Mostly settled at once (the socket has nothing new yet when the connection resumes), now and then later.
        return received.length % 4 === 0 ? new Promise<void>((resolve) => setTimeout(resolve, 2)) : Promise.resolve();
      });
      const all = Buffer.concat(received);
      assert.equal(all.length, chunk.length * total);
      for (let i = 0; i < total; i++) assert.equal(all[i * chunk.length], i % 251, `chunk ${i} in order`);
      assert.ok(received.length > 2);
      // The connection is reusable afterwards.
      const again = await transport.get(`${base}/big`, {});
      let bytes = 0;
      await again.body.forEach((data) => void (bytes += data.length));
      assert.equal(bytes, chunk.length * total);
    },
  );
});

test('a consumer that throws ends the request with its own error; a cut-off body rejects; a body is consumed once', { timeout: 20_000 }, async () => {
  await withServer(
    (req, res) => {
      if (req.url === '/cut') {
        res.writeHead(200, { 'content-length': '1000000' });
        res.write(Buffer.alloc(1000));
        setTimeout(() => res.destroy(), 20);
      } else {
        res.writeHead(200, { 'content-length': String(300_000) });
        res.end(Buffer.alloc(300_000));
      }
    },
    async (base, transport) => {
      const response = await transport.get(`${base}/ok`, {});
      await assert.rejects(
        response.body.forEach(() => {
          throw new Error('disk full');
        }),
        /disk full/,
      );
      await assert.rejects(response.body.text(), /already consumed|disk full/);
      const cut = await transport.get(`${base}/cut`, {});
      await assert.rejects(cut.body.dump(), (error: Error) => error.message.length > 0);
      // The transport still works after both.
      const fine = await transport.get(`${base}/ok`, {});
      assert.equal((await fine.body.text()).length, 300_000);
    },
  );
});

test('raw headers: lower-case names, repeated ones as arrays', () => {
  const raw = ['Content-Type', 'text/html', 'Set-Cookie', 'a=1', 'set-cookie', 'b=2', 'ETag', '"x"', 'set-cookie', 'c=3'].map((s) => Buffer.from(s));
  assert.deepEqual(headersFromRaw(raw), { 'content-type': 'text/html', 'set-cookie': ['a=1', 'b=2', 'c=3'], etag: '"x"' });
  assert.deepEqual(headersFromRaw(null), {});
});
