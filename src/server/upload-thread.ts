// Worker thread entry for the upload server's CPU-bound work in plain JavaScript, which on the main thread would stall every request: bcrypt password checks and BLAKE2b-256 digests of received files.
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { blake2b } from '@noble/hashes/blake2.js';
import bcrypt from 'bcryptjs';

export type ThreadRequest = { id: number; kind: 'bcrypt'; password: string; hash: string } | { id: number; kind: 'blake2b256'; path: string };

export type ThreadReply = { id: number; ok: boolean } | { id: number; digest: string } | { id: number; error: string };

function compare(password: string, hash: string): boolean {
  try {
    return bcrypt.compareSync(password, hash);
  } catch {
    return false; // a hash bcryptjs cannot read matches nothing
  }
}

/** BLAKE2b-256 of a file, read in 1 MiB steps (memory stays flat). */
function blake2b256(path: string): string {
  const state = blake2b.create({ dkLen: 32 });
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const read = readSync(fd, buffer, 0, buffer.length, null);
      if (read === 0) break;
      state.update(buffer.subarray(0, read));
    }
  } finally {
    closeSync(fd);
  }
  return Buffer.from(state.digest()).toString('hex');
}

parentPort?.on('message', (request: ThreadRequest) => {
  let reply: ThreadReply;
  try {
    reply = request.kind === 'bcrypt' ? { id: request.id, ok: compare(request.password, request.hash) } : { id: request.id, digest: blake2b256(request.path) };
  } catch (error) {
    reply = { id: request.id, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort?.postMessage(reply);
});
