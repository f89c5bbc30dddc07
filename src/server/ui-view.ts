// Which web page a request gets, if any (pure): the pages under `/+ui/`, and the project list at `/`
// for a browser. pip, twine, uv, curl and scripts keep the simple index at `/`: only a browser's
// navigation Accept header (text/html first, application/xhtml+xml listed, no simple-API type) is
// taken as a person; a bare `Accept: text/html` (pip before 22.2, crawlers of the root page) is not.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { qValue } from './negotiate.js';
import { sendError } from './respond.js';
import type { Route } from './routes.js';

/** The routes of index pages, which the web page's requests are too (so that they share their guards). */
export type PageRoute = Route & { kind: 'root' | 'project' };

/** The web page (ui-pages.ts): the answer to a request for a page of it. */
export type UiHandler = (req: IncomingMessage, res: ServerResponse, view: UiView, query: string) => Promise<void>;

export type UiView = { page: 'list' | 'search' | 'status'; uiRoot: string } | { page: 'project'; project: string; uiRoot: string };

/** A browser navigating: what Chromium, Firefox and Safari send for a page (`text/html,application/xhtml+xml,...`). */
export function isBrowserAccept(accept: string | undefined): boolean {
  if (accept === undefined || !accept.includes('xhtml')) return false;
  let html = 0;
  let xhtml = 0;
  let best = 0;
  for (const item of accept.split(',')) {
    const [type, ...params] = item.split(';');
    const media = (type ?? '').trim().toLowerCase();
    const q = qValue(params);
    if (q === 0) continue;
    if (media.startsWith('application/vnd.pypi.simple.')) return false;
    if (media === 'text/html') html = Math.max(html, q);
    if (media === 'application/xhtml+xml') xhtml = Math.max(xhtml, q);
    best = Math.max(best, q);
  }
  return html > 0 && xhtml > 0 && html >= best;
}

/** The web page a page route names for this request; undefined: the simple index answers as before. */
export function uiViewOf(target: PageRoute, accept: string | undefined, format: string | null): UiView | undefined {
  if (target.kind === 'project') return target.ui === true ? { page: 'project', project: target.project, uiRoot: '../' } : undefined;
  if (target.kind !== 'root') return undefined;
  if (target.ui !== undefined) return { page: target.ui, uiRoot: './' };
  if (target.prefix === '' && (format === null || format === '') && isBrowserAccept(accept)) return { page: 'list', uiRoot: '+ui/' };
  return undefined;
}

/**
 * For the hot path, which answers index pages from memory: the request may be for the web page
 * (a `/+ui/` route, or `/` from a browser while the web page is on).
 */
export function isUiPage(target: PageRoute, accept: string | undefined, ui: UiHandler | undefined): boolean {
  return target.ui !== undefined || (target.kind === 'root' && ui !== undefined && isBrowserAccept(accept));
}

/** Answer a request for the web page; undefined: the route is the index page's (or the web page is off and `/` is asked for). */
export function answerUi(
  ui: UiHandler | undefined,
  target: PageRoute,
  req: IncomingMessage,
  res: ServerResponse,
  format: string | null,
  query: string,
): Promise<void> | undefined {
  if (ui === undefined) return target.ui === undefined ? undefined : Promise.resolve(sendError(req, res, 404, 'not found'));
  const view = uiViewOf(target, req.headers.accept, format);
  return view === undefined ? undefined : ui(req, res, view, query);
}
