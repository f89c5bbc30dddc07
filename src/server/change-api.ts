// The JSON change API (`POST /+api/remove`, `/+api/yank`, `/+api/unyank`) and pypiserver's `:action=remove_pkg`
// form: authenticated as uploads are, allowed by mayChange, answered once the pages have changed.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkTarget } from '../mirror/store/mirror-target.js';
import { checkReason } from '../mirror/store/yank-files.js';
import { redact } from '../redact.js';
import { closeAfterAnswer } from './close-after.js';
import { type CacheAdmin, runCacheAction } from './cache-admin.js';
import type { MayChange } from './may-change.js';
import { changeErrorStatus, type ChangeResult, type MirrorChanges } from './mirror-changes.js';
import { sendBody } from './respond.js';
import { route, type ChangeAction } from './routes.js';

/** A change request's body is a few names: anything bigger is refused unread. */
export const MAX_CHANGE_BODY_BYTES = 16 * 1024;
/** The body must arrive within this long once the credentials are checked. */
const BODY_TIMEOUT_MS = 10_000;

export type Authenticate = (req: IncomingMessage, res: ServerResponse) => Promise<string | undefined>;
type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function sendJson(req: IncomingMessage, res: ServerResponse, status: number, value: unknown): void {
  sendBody(req, res, status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }, Buffer.from(`${JSON.stringify(value)}\n`));
}

/** The body, at most MAX_CHANGE_BODY_BYTES, within BODY_TIMEOUT_MS; refusals are thrown as Refusal. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_CHANGE_BODY_BYTES) return Promise.reject(new Refusal(413, `the body is larger than ${MAX_CHANGE_BODY_BYTES} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => fail(new Refusal(408, `the body did not arrive within ${BODY_TIMEOUT_MS / 1000} s`)), BODY_TIMEOUT_MS);
    const fail = (error: Error) => {
      clearTimeout(timer);
      req.removeAllListeners('data');
      reject(error);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_CHANGE_BODY_BYTES) return fail(new Refusal(413, `the body is larger than ${MAX_CHANGE_BODY_BYTES} bytes`));
      chunks.push(chunk);
    });
    req.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    req.on('error', fail);
    req.on('aborted', () => fail(new Refusal(400, 'the client went away')));
  });
}

const FIELDS: Record<ChangeAction, { required: string[]; optional: string[] }> = {
  remove: { required: ['project'], optional: ['version', 'file'] },
  yank: { required: ['project', 'version'], optional: ['reason'] },
  unyank: { required: ['project', 'version'], optional: [] },
  cache: { required: [], optional: [] },
  invalidate: { required: ['project'], optional: [] },
};

/** The request's JSON object, checked against the action's fields (pure). */
export function parseChangeBody(action: ChangeAction, body: string): Record<string, string> {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new Refusal(400, 'the body is not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Refusal(400, 'the body is not a JSON object');
  const { required, optional } = FIELDS[action];
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!required.includes(key) && !optional.includes(key))
      throw new Refusal(400, `unknown field ${JSON.stringify(key.slice(0, 64))} (${action} takes ${[...required, ...optional].join(', ')})`);
    if (typeof value !== 'string') throw new Refusal(400, `field ${key} is not a string`);
    fields[key] = value;
  }
  for (const key of required) if (fields[key] === undefined) throw new Refusal(400, `missing field ${key}`);
  return fields;
}

/** Run the change `action` asks for, by `user`, if mayChange allows it. */
function runChange(
  changes: MirrorChanges,
  mayChange: MayChange,
  action: 'remove' | 'yank' | 'unyank',
  fields: Record<string, string>,
  user: string,
): Promise<ChangeResult> {
  const target = checkTarget({ project: fields.project as string, version: fields.version, file: fields.file });
  const decision = mayChange(user, target.project);
  if (!decision.allowed) throw new Refusal(403, decision.reason);
  if (action === 'remove') return changes.remove(target, user);
  return changes.yank(target, action === 'yank' ? checkReason(fields.reason ?? '') : null, user);
}

function refusalOf(error: unknown): { status: number; message: string } | undefined {
  return error instanceof Refusal ? { status: error.status, message: error.message } : changeErrorStatus(error);
}

/** The JSON API: authenticate, read and check the body, change the mirror, answer with what changed. */
export function createChangeHandler(options: { authenticate: Authenticate; changes: MirrorChanges; mayChange: MayChange; cache?: CacheAdmin | undefined }) {
  return async (req: IncomingMessage, res: ServerResponse, action: ChangeAction): Promise<void> => {
    const user = await options.authenticate(req, res);
    if (user === undefined) return;
    if (/^100-continue$/i.test(req.headers.expect ?? '')) res.writeContinue();
    try {
      const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      if (type !== 'application/json') throw new Refusal(415, 'send the request as Content-Type: application/json');
      const fields = parseChangeBody(action, (await readBody(req)).toString('utf8'));
      if (action === 'cache' || action === 'invalidate') {
        const answer = runCacheAction(options.cache, action, fields, (project) => options.mayChange(user, project));
        if (!answer.ok) throw new Refusal(answer.status, answer.message);
        sendJson(req, res, 200, answer.value);
      } else sendJson(req, res, 200, await runChange(options.changes, options.mayChange, action, fields, user));
    } catch (error) {
      const refusal = refusalOf(error);
      if (refusal === undefined) throw error;
      if (!req.complete) closeAfterAnswer(req, res);
      if (req.socket === null || req.socket.destroyed) return;
      sendJson(req, res, refusal.status, { error: redact(refusal.message) });
    }
  };
}

/** pypiserver's `:action=remove_pkg` form (fields `name`, `version`): every file of that version. Answers as the upload API does. */
export async function removePkgAction(
  changes: MirrorChanges,
  mayChange: MayChange,
  user: string,
  fields: ReadonlyMap<string, string>,
): Promise<{ status: number; message: string }> {
  const name = fields.get('name') ?? '';
  const version = fields.get('version') ?? '';
  if (name === '' || version === '') return { status: 400, message: `remove_pkg needs the fields name and version` };
  try {
    const result = await runChange(changes, mayChange, 'remove', { project: name, version }, user);
    return { status: 200, message: `OK: removed ${result.files.length} file(s) of ${result.project}==${version}` };
  } catch (error) {
    const refusal = refusalOf(error);
    if (refusal === undefined) throw error;
    return refusal;
  }
}

/** The handler of every write POST (app.ts's `upload` route): the JSON change API by its path, else the upload form. */
export function routeWrites(upload: Handler, change: ReturnType<typeof createChangeHandler>): Handler {
  return (req, res) => {
    const raw = req.url ?? '/';
    const target = route('POST', raw.includes('?') ? raw.slice(0, raw.indexOf('?')) : raw);
    return target.kind === 'upload' && target.change !== undefined ? change(req, res, target.change) : upload(req, res);
  };
}
