// Who may read: with read auth, every page, file and .metadata needs Basic credentials of its htpasswd
// file (401 with a challenge otherwise, so that pip asks its keyring or .netrc), and /metrics those of its
// own file when one is given. /health stays open; uploads check their own credentials (upload.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { closeAfterAnswer, hasBody } from './close-after.js';
import { parseBasicAuth } from './credentials.js';
import { clientKey, LoginLimiter } from './login-limiter.js';
import { PasswordFile, type Verdict } from './password-file.js';
import { redact } from '../redact.js';
import { sendError } from './respond.js';
import { route } from './routes.js';
import { BcryptBusyError, UploadThreads } from './upload-threads.js';

export interface AccessSettings {
  /** htpasswd file (bcrypt) of the users who may read pages and files; none: reading is open. */
  readUsersFile?: string;
  /** htpasswd file (bcrypt) of the users who may read /metrics; none: /metrics is open. */
  metricsUsersFile?: string;
  /** Failed logins per client and minute before 429 (Infinity: no limit). */
  maxLoginFailures: number;
}

/** Calls `next` when the request may be answered (at once, or once its password is checked); else answers it. */
export type RequestGuard = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

export interface AccessGuard {
  admit: RequestGuard;
  /** Re-read the htpasswd files now if they changed (they are also looked at every second). */
  reload(): Promise<void>;
  close(): Promise<void>;
}

export const READ_REALM = 'dib-pypi';
export const METRICS_REALM = 'dib-pypi metrics';

interface Protected {
  file: PasswordFile;
  realm: string;
  /** What a refused login is logged as. */
  what: string;
}

/** The guard for these settings; undefined when nothing needs a password. */
export function createAccessGuard(settings: AccessSettings, log: (line: string) => void): AccessGuard | undefined {
  if (settings.readUsersFile === undefined && settings.metricsUsersFile === undefined) return undefined;
  const threads = new UploadThreads();
  const open = (path: string | undefined, realm: string, what: string): Protected | undefined =>
    path === undefined ? undefined : { file: new PasswordFile({ path, hasher: threads, log }), realm, what };
  const read = open(settings.readUsersFile, READ_REALM, 'read');
  const metrics = open(settings.metricsUsersFile, METRICS_REALM, '/metrics');
  const limiter = new LoginLimiter({ maxFailures: settings.maxLoginFailures });
  const files = [read, metrics].filter((each) => each !== undefined).map((each) => each.file);
  return {
    admit: (req, res, next) => {
      const url = req.url ?? '/';
      const queryAt = url.indexOf('?');
      const pathname = queryAt === -1 ? url : url.slice(0, queryAt);
      // Only these paths can be /health, /metrics or an upload (routes.ts): every other request is a page or file to guard.
      const kind = pathname === '/health' || pathname === '/metrics' || req.method === 'POST' ? route(req.method ?? 'GET', pathname).kind : 'page';
      // Uploads have their own users (and answer 405 when off); /health is for load balancers and probes.
      const guarded = kind === 'health' || kind === 'upload' ? undefined : kind === 'metrics' ? metrics : read;
      const admitted = guarded === undefined ? true : admitWith(guarded, limiter, req, res, log);
      if (admitted === true) next();
      else if (admitted !== false)
        admitted.then(
          (ok) => {
            if (ok) next();
          },
          (error: unknown) => {
            log(`${req.method} ${redact(req.url ?? '')}: password check failed: ${error instanceof Error ? error.message : String(error)}`);
            if (!res.headersSent) sendError(req, res, 500, 'internal error');
          },
        );
    },
    reload: async () => {
      await Promise.all(files.map((file) => file.reload()));
    },
    close: async () => {
      for (const file of files) file.close();
      await threads.close();
    },
  };
}

/**
 * A client past its failed-login limit gets 429 unless it sends a pair verified before the lockout
 * (a guess sent during the lockout is never checked, so it never becomes such a pair: the lockout
 * still tells a guesser nothing, and readers behind the same proxy or NAT address keep reading);
 * no credentials or wrong ones 401 with the challenge, wrong ones counted; a full password-check queue 503.
 */
function admitWith(
  guarded: Protected,
  limiter: LoginLimiter,
  req: IncomingMessage,
  res: ServerResponse,
  log: (line: string) => void,
): boolean | Promise<boolean> {
  // No failed login anywhere (the usual case): no client to look up.
  const wait = limiter.size === 0 ? 0 : limiter.retryAfter(clientKey(req.socket.remoteAddress));
  if (wait > 0 && !guarded.file.isRemembered(req.headers.authorization))
    return refuse(req, res, 429, `too many failed logins from this address; retry in ${wait} s`, { 'Retry-After': String(wait) });
  let verdict: Verdict | Promise<Verdict>;
  try {
    verdict = guarded.file.check(req.headers.authorization);
  } catch (error) {
    return Promise.reject(error);
  }
  if (verdict === 'ok') return true;
  // A wrong password is known only after bcrypt (a promise): at once, only a missing or malformed header.
  if (typeof verdict === 'string') return challenge(guarded, req, res, 'authentication required');
  return verdict.then(
    (late) => {
      if (late === 'ok') return true;
      limiter.fail(clientKey(req.socket.remoteAddress));
      log(`${guarded.what} refused: bad credentials for user ${JSON.stringify(parseBasicAuth(req.headers.authorization)?.user ?? '')}`);
      return challenge(guarded, req, res, 'invalid credentials');
    },
    (error: unknown) => {
      if (!(error instanceof BcryptBusyError)) throw error;
      return refuse(req, res, 503, 'too many password checks at once; retry', { 'Retry-After': '1' });
    },
  );
}

function challenge(guarded: Protected, req: IncomingMessage, res: ServerResponse, message: string): false {
  return refuse(req, res, 401, message, { 'WWW-Authenticate': `Basic realm="${guarded.realm}"` });
}

function refuse(req: IncomingMessage, res: ServerResponse, status: number, message: string, headers: Record<string, string>): false {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  // A body nobody reads is not waited for: the connection closes after the answer.
  if (hasBody(req)) closeAfterAnswer(req, res);
  sendError(req, res, status, message);
  return false;
}
