// twine's legacy upload API (`:action=file_upload`, multipart): authenticated, checked, atomic, never overwriting.
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { link, lstat, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { STATE_DIR } from '../mirror/store/manifest.js';
import { eq as versionsEqual, valid as validVersion } from '@renovatebot/pep440';
import { inspectDistribution } from '../mirror/inspect/inspect-distribution.js';
import { parseDistFilename } from '../pypi/dist-filename.js';
import { normalizeProjectName } from '../pypi/project-name.js';
import type { DistFilename } from '../pypi/types.js';
import { fsyncPath } from '../fs/atomic-write.js';
import { replaceFile } from '../fs/replace-file.js';
import { redact } from '../redact.js';
import { BcryptBusyError, type UploadThreads } from './upload-threads.js';
import { closeAfterAnswer } from './close-after.js';
import { parseBasicAuth, type Authenticator } from './credentials.js';
import { fileIdentity } from './file-identity.js';
import { clientKey, LoginLimiter } from './login-limiter.js';
import { checkUpload } from './upload-form.js';
import { BadForm, receiveUpload, TooLarge, type Received } from './upload-receive.js';
import { sendError } from './respond.js';

export interface UploadOptions {
  dir: string;
  auth: Authenticator;
  /** Where BLAKE2b digests are computed (JavaScript: off the event loop). */
  threads: Pick<UploadThreads, 'blake2b256'>;
  allowOverwrite: boolean;
  maxBytes: number;
  /** An sdist that inflates past this many bytes is refused (default: 2 GiB). */
  maxInflatedBytes?: number;
  /** Failed logins per client (IPv4 address, IPv6 /64) and minute before it gets 429 (default 10). */
  limiter?: LoginLimiter;
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

/** Answer once the request body is read (a client that is still sending would see a reset). */
function answer(req: IncomingMessage, res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (req.complete) sendError(req, res, status, message);
  else {
    req.on('end', () => sendError(req, res, status, message));
    req.resume();
  }
}

function refuse(res: ServerResponse, req: IncomingMessage, status: number, message: string, headers: Record<string, string> = {}): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  closeAfterAnswer(req, res);
  sendError(req, res, status, message);
}

/** Uploads older than this in the temp directory were cut off by a crash: removed at start. */
const STALE_PART_MS = 60 * 60 * 1000;
const DEFAULT_MAX_INFLATED_BYTES = 2 * 1024 * 1024 * 1024;

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

/** One placement at a time per project: the check for an equivalent file and the link that follows are one step. */
class ProjectLocks {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(project: string, step: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(project) ?? Promise.resolve();
    const result = previous.then(step, step);
    const tail = result.catch(() => undefined);
    this.#tails.set(project, tail);
    void tail.then(() => {
      if (this.#tails.get(project) === tail) this.#tails.delete(project);
    });
    return result;
  }
}

/**
 * Who is asking, before a byte of the body is read: a client over its failed-login limit gets 429,
 * no credentials 401, wrong ones 403 (counted), a full password-check queue 503; each closes the
 * connection. Returns the user when the upload may go on.
 */
async function authenticate(req: IncomingMessage, res: ServerResponse, options: UploadOptions, limiter: LoginLimiter): Promise<string | undefined> {
  const client = clientKey(req.socket.remoteAddress);
  const wait = limiter.retryAfter(client);
  if (wait > 0) {
    refuse(res, req, 429, `too many failed logins from this address; retry in ${wait} s`, { 'Retry-After': String(wait) });
    return undefined;
  }
  const credentials = parseBasicAuth(req.headers.authorization);
  if (credentials === undefined) {
    refuse(res, req, 401, 'authentication required', { 'WWW-Authenticate': 'Basic realm="dib-pypi upload"' });
    return undefined;
  }
  let ok: boolean;
  try {
    ok = await options.auth.check(credentials.user, credentials.password);
  } catch (error) {
    if (!(error instanceof BcryptBusyError)) throw error;
    refuse(res, req, 503, 'too many password checks at once; retry', { 'Retry-After': '1' });
    return undefined;
  }
  if (!ok) {
    limiter.fail(client);
    options.log?.(`upload refused: bad credentials for user ${JSON.stringify(credentials.user)}`);
    refuse(res, req, 403, 'invalid credentials');
    return undefined;
  }
  limiter.succeed(client);
  return credentials.user;
}

export function createUploadHandler(options: UploadOptions) {
  mkdirSync(uploadTempDir(options.dir), { recursive: true });
  removeStaleParts(uploadTempDir(options.dir));
  const limiter = options.limiter ?? new LoginLimiter();
  const locks = new ProjectLocks();
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const user = await authenticate(req, res, options, limiter);
    if (user === undefined) return;
    // app.ts held back node's invitation to send the body until now.
    if (/^100-continue$/i.test(req.headers.expect ?? '')) res.writeContinue();
    let received: Received;
    try {
      received = await receiveUpload(req, { tempDir: uploadTempDir(options.dir), maxBytes: options.maxBytes });
    } catch (error) {
      if (req.socket === null || req.socket.destroyed) return; // the client went away: nobody to answer
      if (error instanceof TooLarge) return refuse(res, req, 413, error.message);
      if (error instanceof BadForm) return req.complete ? answer(req, res, 400, error.message) : refuse(res, req, 400, error.message);
      throw error;
    }
    const temp = received.temp;
    let outcome: { status: number; message: string };
    try {
      // BLAKE2b-256 is JavaScript (node's crypto has BLAKE2b-512 only) at tens of MB/s: on a thread, and only when asked to check it.
      const digests = received.form.received;
      if (temp !== undefined && digests !== undefined && (received.form.fields.get('blake2_256_digest') ?? '') !== '') digests.blake2b256 = await options.threads.blake2b256(temp);
      outcome = await store(options, received, locks);
    } finally {
      // Gone before the client hears back: a refused upload leaves nothing behind.
      if (temp !== undefined) await rm(temp, { force: true });
    }
    if (outcome.status === 200) options.log?.(`uploaded ${outcome.message.slice(4)} by ${redact(user)}`);
    return answer(req, res, outcome.status, outcome.message);
  };
}

async function store(options: UploadOptions, received: Received, locks: ProjectLocks): Promise<{ status: number; message: string }> {
  const check = checkUpload(received.form);
  if (!check.ok) return { status: check.status, message: check.message };
  const temp = received.temp as string;
  const refused = (await inspect(options, temp, check.project, check.filename, check.parsed)) ?? (await locks.run(check.project, () => place(options, temp, check.project, check.filename, check.parsed)));
  if (refused !== undefined) return refused;
  await options.onStored(check.project, check.filename);
  return { status: 200, message: `OK: ${check.project}/${check.filename}` };
}

function isSameVersion(a: string, b: string): boolean {
  return validVersion(a) !== null && validVersion(b) !== null ? versionsEqual(a, b) : a === b;
}

/**
 * The distribution itself, read as pip and `mirror verify` will read it: a wheel's METADATA or an
 * sdist's PKG-INFO must name the form's project and version, every member name must be safe, and
 * an sdist must not inflate past the limit. Returns the refusal, or undefined.
 */
async function inspect(options: UploadOptions, temp: string, project: string, filename: string, parsed: DistFilename): Promise<{ status: number; message: string } | undefined> {
  let inspected;
  try {
    inspected = await inspectDistribution(filename, parsed, temp, { strict: true, maxInflatedBytes: options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES });
  } catch (error) {
    const message = (error as Error).message;
    return { status: 400, message: message.startsWith('broken distribution') ? message : `broken distribution ${filename}: ${message}` };
  }
  const core = inspected.core;
  if (core === undefined) return { status: 400, message: `broken distribution ${filename}: no core metadata` };
  if (normalizeProjectName(core.name) !== project) return { status: 400, message: `${filename}: its metadata names project ${JSON.stringify(core.name)}, not ${project}` };
  if (!isSameVersion(core.version, parsed.version)) return { status: 400, message: `${filename}: its metadata has version ${JSON.stringify(core.version)}, not ${parsed.version}` };
  return undefined;
}

/** The file of the project directory that is `filename` under another spelling (fileIdentity), if any. */
async function findEquivalent(projectDir: string, filename: string, parsed: DistFilename): Promise<string | undefined> {
  const identity = fileIdentity(filename, parsed);
  for (const name of await readdir(projectDir)) {
    if (name === filename) continue;
    const other = parseDistFilename(name);
    if (other !== undefined && fileIdentity(name, other) === identity) return name;
  }
  return undefined;
}

/** Put the checked file in place (under the project's lock); returns the refusal, or undefined when stored. */
async function place(options: UploadOptions, temp: string, project: string, filename: string, parsed: DistFilename): Promise<{ status: number; message: string } | undefined> {
  const projectDir = join(options.dir, project);
  await mkdir(projectDir, { recursive: true });
  if (!(await lstat(projectDir)).isDirectory()) return { status: 409, message: `${project} is not a directory in this mirror` };
  const equivalent = await findEquivalent(projectDir, filename, parsed);
  if (equivalent !== undefined && !options.allowOverwrite) {
    return { status: 409, message: `${project}/${equivalent} exists already and is the same file as ${filename} (same project, version and tags; this server never overwrites; see --allow-overwrite)` };
  }
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
  if (equivalent !== undefined) {
    // --allow-overwrite: the new spelling replaces the old one.
    await rm(join(projectDir, equivalent), { force: true });
    await rm(join(projectDir, `${equivalent}.upload-time`), { force: true });
  }
  replaceFile(`${target}.upload-time`, `${new Date().toISOString()}\n`);
  mkdirSync(join(options.dir, STATE_DIR, 'private'), { recursive: true });
  replaceFile(privateMarker(options.dir, project), '');
  fsyncPath(projectDir);
  return undefined;
}
