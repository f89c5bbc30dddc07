// Verified downloads: to memory when small (sync's writer thread writes them), to a temp file past the limit,
// and nothing left behind when the bytes are not the promised ones.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { downloadVerified } from '../../../src/upstream/download-file.js';
import { HttpTransport } from '../../../src/upstream/http-transport.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

test("commit 'memory': small files come back as bytes, bigger ones as a verified temp file, a mismatch leaves nothing", async () => {
  const big = Buffer.alloc(300_000, 7);
  const small = Buffer.from('small file');
  // The big file in several writes, so that it arrives in several chunks.
  const server = createServer((request, response) => {
    if (request.url === '/small') response.end(small);
    else {
      response.writeHead(200, { 'content-length': String(big.length) });
      for (let at = 0; at < big.length; at += 50_000) response.write(big.subarray(at, at + 50_000));
      response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'dib-pypi-download-'));
  const transport = new HttpTransport({ connections: 2, timeoutMs: 5_000, userAgent: 'test' });
  try {
    const get = (name: string, digest: string, memoryUpTo: number) =>
      downloadVerified(transport, { url: `${base}/${name}`, target: join(dir, name), algorithm: 'sha256', digest, headers: {}, commit: 'memory', memoryUpTo });
    const inMemory = await get('small', sha256(small), 1_000);
    assert.deepEqual(inMemory.data, small);
    assert.equal(inMemory.temp, undefined);
    assert.deepEqual(readdirSync(dir), []); // nothing written

    const onDisk = await get('big', sha256(big), 60_000);
    assert.equal(onDisk.data, undefined);
    assert.equal(onDisk.bytes, big.length);
    assert.match(onDisk.temp ?? '', /\/\.big\.part-/);
    assert.ok(readFileSync(onDisk.temp as string).equals(big));
    rmSync(onDisk.temp as string);

    for (const memoryUpTo of [1_000, 1_000_000]) await assert.rejects(get('big', sha256(small), memoryUpTo), /hash mismatch/);
    assert.deepEqual(readdirSync(dir), []); // no temp file left
  } finally {
    await transport.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
