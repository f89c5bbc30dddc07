// twine's legacy upload API (`:action=file_upload`, multipart): authenticated, checked, atomic, never overwriting.
import { rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { eq as versionsEqual, valid as validVersion } from '@renovatebot/pep440';
import { inspectDistribution } from '../mirror/inspect/inspect-distribution.js';
import { normalizeProjectName } from '../pypi/project-name.js';
import type { DistFilename, InspectedDistribution } from '../pypi/types.js';
import { UploadStore } from '../mirror/store/place-upload.js';
import { redact } from '../redact.js';
import { BcryptBusyError, type UploadThreads } from './upload-threads.js';
import { closeAfterAnswer } from './close-after.js';
import { parseBasicAuth, type Authenticator } from './credentials.js';
import { clientKey, LoginLimiter } from './login-limiter.js';
import { checkUpload } from './upload-form.js';
import { BadForm, receiveUpload, TooLarge, type Received } from './upload-receive.js';
import { sendError, toHeaderText } from './respond.js';
import type { UploadRights } from './upload-rights.js';

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
  /** Who may upload to which project (--acl); without it, every authenticated user may upload anywhere. */
  rights?: Pick<UploadRights, 'mayChange' | 'claim'>;
  /** A form with another `:action` than file_upload that the server knows (pypiserver's remove_pkg): its answer. */
  onFormAction?: (action: string, user: string, fields: ReadonlyMap<string, string>) => Promise<{ status: number; message: string } | undefined>;
  /** Called once the file is in place: re-index, drop cached pages. */
  onStored: (project: string, filename: string) => Promise<void>;
  log?: (line: string) => void;
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

const DEFAULT_MAX_INFLATED_BYTES = 2 * 1024 * 1024 * 1024;

/**
 * Who is asking, before a byte of the body is read: a client over its failed-login limit gets 429,
 * no credentials 401, wrong ones 403 (counted), a full password-check queue 503; each closes the
 * connection. Returns the user when the upload may go on.
 */
export async function authenticate(
  req: IncomingMessage,
  res: ServerResponse,
  options: Pick<UploadOptions, 'auth' | 'log'>,
  limiter: LoginLimiter,
): Promise<string | undefined> {
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
  const uploads = new UploadStore(options.dir, options.allowOverwrite);
  const limiter = options.limiter ?? new LoginLimiter();
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const user = await authenticate(req, res, options, limiter);
    if (user === undefined) return;
    // app.ts held back node's invitation to send the body until now.
    if (/^100-continue$/i.test(req.headers.expect ?? '')) res.writeContinue();
    let received: Received;
    try {
      received = await receiveUpload(req, { tempDir: uploads.tempDir, maxBytes: options.maxBytes });
    } catch (error) {
      if (req.socket === null || req.socket.destroyed) return; // the client went away: nobody to answer
      if (error instanceof TooLarge) return refuse(res, req, 413, error.message);
      if (error instanceof BadForm) return req.complete ? answer(req, res, 400, error.message) : refuse(res, req, 400, error.message);
      throw error;
    }
    const temp = received.temp;
    let outcome: Outcome;
    try {
      // BLAKE2b-256 is JavaScript (node's crypto has BLAKE2b-512 only) at tens of MB/s: on a thread, and only when asked to check it.
      const digests = received.form.received;
      if (temp !== undefined && digests !== undefined && (received.form.fields.get('blake2_256_digest') ?? '') !== '')
        digests.blake2b256 = await options.threads.blake2b256(temp);
      const action = received.form.fields.get(':action') ?? '';
      outcome =
        (action === 'file_upload' ? undefined : await options.onFormAction?.(action, user, received.form.fields)) ??
        (await store(options, user, received, uploads));
    } finally {
      // Gone before the client hears back: a refused upload leaves nothing behind.
      if (temp !== undefined) await rm(temp, { force: true });
    }
    if (outcome.status === 200 && received.form.fields.get(':action') === 'file_upload')
      options.log?.(`uploaded ${outcome.message.slice(4)} by ${redact(user)}`);
    if (outcome.isRefusal === true) {
      options.log?.(`upload refused: ${outcome.message}`);
      // twine prints a failed upload's reason phrase, not its body: PyPI puts its refusals there too.
      res.statusMessage = toHeaderText(outcome.message);
    }
    return answer(req, res, outcome.status, outcome.message);
  };
}

/** How an upload ends; `isRefusal`: the user may not upload to that project (403, the reason also in the status line). */
type Outcome = { status: number; message: string; isRefusal?: boolean };

async function store(options: UploadOptions, user: string, received: Received, uploads: UploadStore): Promise<Outcome> {
  const check = checkUpload(received.form);
  if (!check.ok) return { status: check.status, message: check.message };
  // Asked before the file is inspected, and again (recording a new owner) just before it is placed.
  const early = options.rights?.mayChange(user, check.project);
  if (early !== undefined && !early.allowed) return { status: 403, message: early.reason, isRefusal: true };
  const temp = received.temp as string;
  const refused = await inspect(options, temp, check.project, check.filename, check.parsed);
  if (refused !== undefined) return refused;
  const decision = options.rights?.claim(user, check.project);
  if (decision !== undefined && !decision.allowed) return { status: 403, message: decision.reason, isRefusal: true };
  const conflict = await uploads.place(temp, check.project, check.filename, check.parsed);
  if (conflict !== undefined) return { status: 409, message: conflict };
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
async function inspect(
  options: UploadOptions,
  temp: string,
  project: string,
  filename: string,
  parsed: DistFilename,
): Promise<{ status: number; message: string } | undefined> {
  let inspected: InspectedDistribution;
  try {
    inspected = await inspectDistribution(filename, parsed, temp, { strict: true, maxInflatedBytes: options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES });
  } catch (error) {
    const message = (error as Error).message;
    return { status: 400, message: message.startsWith('broken distribution') ? message : `broken distribution ${filename}: ${message}` };
  }
  const core = inspected.core;
  if (core === undefined) return { status: 400, message: `broken distribution ${filename}: no core metadata` };
  if (normalizeProjectName(core.name) !== project)
    return { status: 400, message: `${filename}: its metadata names project ${JSON.stringify(core.name)}, not ${project}` };
  if (!isSameVersion(core.version, parsed.version))
    return { status: 400, message: `${filename}: its metadata has version ${JSON.stringify(core.version)}, not ${parsed.version}` };
  return undefined;
}
