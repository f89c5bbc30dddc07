// Worker thread entry: compare passwords with bcrypt hashes (bcryptjs is plain JavaScript: on the main thread it would stall every request).
import { parentPort } from 'node:worker_threads';
import bcrypt from 'bcryptjs';

export interface BcryptRequest {
  id: number;
  password: string;
  hash: string;
}

export interface BcryptReply {
  id: number;
  ok: boolean;
}

parentPort?.on('message', (request: BcryptRequest) => {
  let ok = false;
  try {
    ok = bcrypt.compareSync(request.password, request.hash);
  } catch {
    ok = false; // a hash bcryptjs cannot read matches nothing
  }
  parentPort?.postMessage({ id: request.id, ok } satisfies BcryptReply);
});
