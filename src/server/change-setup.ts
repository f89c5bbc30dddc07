// The change API composed for one serving process: the mirror's changes over the shared re-index queue,
// pypiserver's remove_pkg for the upload form, and the write route that sends `/+api/*` to the JSON API.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IndexResult } from '../mirror/index/types.js';
import type { ReindexQueue } from '../mirror/store/reindex-queue.js';
import { createChangeHandler, removePkgAction, routeWrites, type Authenticate } from './change-api.js';
import type { CacheAdmin } from './cache-admin.js';
import type { MayChange } from './may-change.js';
import { MirrorChanges } from './mirror-changes.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export function setUpChanges(options: {
  dir: string;
  queue: ReindexQueue<IndexResult>;
  onIndexed: (project: string, paths: readonly string[]) => void;
  log: (line: string) => void;
  mayChange: MayChange;
  /** The pull-through cache's admin actions, when this server is one. */
  cache?: CacheAdmin | undefined;
}) {
  const changes = new MirrorChanges({ dir: options.dir, reindex: () => options.queue.request(), onChanged: options.onIndexed, log: options.log });
  return {
    onFormAction: (action: string, user: string, fields: ReadonlyMap<string, string>) =>
      action === 'remove_pkg' ? removePkgAction(changes, options.mayChange, user, fields) : Promise.resolve(undefined),
    routeWrites: (upload: Handler, authenticate: Authenticate): Handler =>
      routeWrites(upload, createChangeHandler({ authenticate, changes, mayChange: options.mayChange, cache: options.cache })),
  };
}
