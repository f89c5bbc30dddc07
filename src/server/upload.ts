// twine's legacy upload API (`:action=file_upload`, multipart): authenticated, checked, atomic, never overwriting.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { link, lstat, mkdir, open, rename, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import busboy from 'busboy';
import { blake2b } from '@noble/hashes/blake2.js';
import { STATE_DIR } from '../mirror/manifest.js';
import { inspectDistribution } from '../mirror/inspect-distribution.js';
import { normalizeProjectName } from '../mirror/project-name.js';
import { fsyncPath } from '../fs/atomic-write.js';
import { replaceFile } from '../fs/replace-file.js';
import { redact } from '../redact.js';
import { parseBasicAuth, type Authenticator } from './credentials.js';
import { checkUpload, type UploadForm } from './upload-form.js';
import { sendError } from './respond.js';

export interface UploadOptions {
  dir: string;
  auth: Authenticator;
  allowOverwrite: boolean;
  maxBytes: number;
  /** Called once the file is in place: re-index, drop cached pages. */
  onStored: (project: string, filename: string) => Promise<void>;
  log?: (line: string) => void;
}

/** Where uploads are received before they are checked: inside DIR (same file system: rename is atomic), never served. */
export function uploadTempDir(dir: string): string {
  return join(dir, STATE_DIR, 'uploads');
}

/** Projects with private uploads: a marker file per project. */
export function privateMarker(dir: string, project: string): string {
  return join(dir, STATE_DIR, 'private', project);
}

interface Received {
  form: UploadForm;
  temp?: string;
  tooLarge: boolean;
}

/** Read the multipart form: fields into memory, the `content` file streamed to a temp file while hashed. */
function receive(req: IncomingMessage, options: UploadOptions): Promise<Received> {
  return new Promise((resolve, reject) => {
    const received: Received = { form: { fields: new Map() }, tooLarge: false };
    let parser;
    try {
      parser = busboy({ headers: req.headers, preservePath: true, limits: { files: 1, fields: 200, fieldSize: 1024 * 1024, fileSize: options.maxBytes } });
    } catch (error) {
      reject(new BadForm(`not a multipart/form-data upload: ${(error as Error).message}`));
      return;
    }
    let writing: Promise<void> = Promise.resolve();
    parser.on('field', (name, value) => received.form.fields.set(name, value));
    parser.on('file', (name, stream, info) => {
      if (name !== 'content') {
        stream.resume();
        return;
      }
      received.form.filename = info.filename;
      const temp = join(uploadTempDir(options.dir), `${Date.now()}-${randomBytes(6).toString('hex')}.part`);
      received.temp = temp;
      const md5 = createHash('md5');
      const sha256 = createHash('sha256');
      const blake = blake2b.create({ dkLen: 32 });
      let size = 0;
      const out = createWriteStream(temp, { flags: 'wx', mode: 0o644 });
      stream.on('data', (chunk: Buffer) => {
        md5.update(chunk);
        sha256.update(chunk);
        blake.update(chunk);
        size += chunk.length;
      });
      stream.on('limit', () => (received.tooLarge = true));
      writing = new Promise((done, failWrite) => {
        out.on('finish', () => {
          received.form.received = { md5: md5.digest('hex'), sha256: sha256.digest('hex'), blake2b256: Buffer.from(blake.digest()).toString('hex'), size };
          done();
        });
        out.on('error', failWrite);
        stream.on('error', failWrite);
      });
      stream.pipe(out);
    });
    parser.on('error', (error: Error) => reject(new BadForm(`malformed upload: ${error.message}`)));
    parser.on('close', () => writing.then(() => resolve(received), reject));
    req.on('aborted', () => reject(new BadForm('the client went away during the upload')));
    req.pipe(parser);
  });
}

class BadForm extends Error {}

/** Answer once the request body is read (a client that is still sending would see a reset). */
function answer(req: IncomingMessage, res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (req.complete) sendError(req, res, status, message);
  else {
    req.on('end', () => sendError(req, res, status, message));
    req.resume();
  }
}

/** Uploads older than this in the temp directory were cut off by a crash: removed at start. */
const STALE_PART_MS = 60 * 60 * 1000;

function removeStaleParts(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.part')) continue;
    try {
      if (Date.now() - statSync(join(dir, name)).mtimeMs > STALE_PART_MS) rmSync(join(dir, name), { force: true });
    } catch {
      // gone already
    }
  }
}

export function createUploadHandler(options: UploadOptions) {
  mkdirSync(uploadTempDir(options.dir), { recursive: true });
  removeStaleParts(uploadTempDir(options.dir));
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const credentials = parseBasicAuth(req.headers.authorization);
    if (credentials === undefined) return answer(req, res, 401, 'authentication required', { 'WWW-Authenticate': 'Basic realm="dib-pypi upload"' });
    if (!(await options.auth.check(credentials.user, credentials.password))) {
      options.log?.(`upload refused: bad credentials for user ${JSON.stringify(credentials.user)}`);
      return answer(req, res, 403, 'invalid credentials');
    }
    let received: Received;
    try {
      received = await receive(req, options);
    } catch (error) {
      if (error instanceof BadForm) return answer(req, res, 400, error.message);
      throw error;
    }
    const temp = received.temp;
    let outcome: { status: number; message: string };
    try {
      outcome = await store(options, received);
    } finally {
      // Gone before the client hears back: a refused upload leaves nothing behind.
      if (temp !== undefined) await rm(temp, { force: true });
    }
    if (outcome.status === 200) options.log?.(`uploaded ${outcome.message.slice(4)} by ${redact(credentials.user)}`);
    return answer(req, res, outcome.status, outcome.message);
  };
}

async function store(options: UploadOptions, received: Received): Promise<{ status: number; message: string }> {
  if (received.tooLarge) return { status: 413, message: `the file is larger than the limit of ${options.maxBytes} bytes` };
  const check = checkUpload(received.form);
  if (!check.ok) return { status: check.status, message: check.message };
  const refused = await place(options, received.temp as string, check.project, check.filename, check.parsed);
  if (refused !== undefined) return refused;
  await options.onStored(check.project, check.filename);
  return { status: 200, message: `OK: ${check.project}/${check.filename}` };
}

/** Check the distribution itself, then put it in place; returns the refusal, or undefined when stored. */
async function place(options: UploadOptions, temp: string, project: string, filename: string, parsed: import('../mirror/types.js').DistFilename): Promise<{ status: number; message: string } | undefined> {
  let inspected;
  try {
    inspected = await inspectDistribution(temp, parsed);
  } catch (error) {
    return { status: 400, message: `broken distribution ${filename}: ${(error as Error).message}` };
  }
  if (inspected.core !== undefined && normalizeProjectName(inspected.core.name) !== project) {
    return { status: 400, message: `${filename}: its metadata names project ${JSON.stringify(inspected.core.name)}, not ${project}` };
  }
  const projectDir = join(options.dir, project);
  await mkdir(projectDir, { recursive: true });
  if (!(await lstat(projectDir)).isDirectory()) return { status: 409, message: `${project} is not a directory in this mirror` };
  const file = await open(temp, 'r');
  await file.sync();
  await file.close();
  const target = join(projectDir, filename);
  if (options.allowOverwrite) await rename(temp, target);
  else {
    try {
      await link(temp, target); // fails when the name exists: never overwritten, even by a racing upload
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { status: 409, message: `${project}/${filename} exists already (this server never overwrites; see --allow-overwrite)` };
      throw error;
    }
  }
  replaceFile(`${target}.upload-time`, `${new Date().toISOString()}\n`);
  mkdirSync(join(options.dir, STATE_DIR, 'private'), { recursive: true });
  replaceFile(privateMarker(options.dir, project), '');
  fsyncPath(projectDir);
  return undefined;
}
