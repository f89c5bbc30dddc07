// The web page's answers (server/ui/ renders them): the project list and its search, a project's
// page, the status page, each with a strict Content-Security-Policy that allows only the page's own
// inline style and script, by hash. Reached only through the index pages' route (app.ts servePage).
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { SCRIPT, STYLE } from './ui/assets.js';
import type { ListView, ProjectView } from './ui/model.js';
import { buildProjectView, metadataFileOf, withMetadataText } from './ui/project-model.js';
import { renderListPage, renderSearchJson } from './ui/render-list.js';
import { renderDocument } from './ui/render-layout.js';
import { renderProjectPage } from './ui/render-project.js';
import { renderStatusPage } from './ui/render-status.js';
import { MAX_QUERY_CHARS, PAGE_SIZE, searchProjects } from './ui/search.js';
import { buildStatusView, type SeriesValues } from './ui/status-model.js';
import { escapeHtml } from '../pypi/render-pages.js';
import { acceptsGzip } from './http-cache.js';
import { sendBody } from './respond.js';
import { UiData } from './ui-data.js';
import type { DiskCache } from './disk-cache.js';
import type { UiHandler } from './ui-view.js';

function hashSource(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** Nothing but the page itself: its one style and one script (by hash), requests to this server, forms to it. */
export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `script-src ${hashSource(SCRIPT)}`,
  `style-src ${hashSource(STYLE)}`,
  "connect-src 'self'",
  "img-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'Content-Security-Policy': UI_CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
  // `/` answers a browser with this page and pip with the simple index.
  Vary: 'Accept, Accept-Encoding',
};

const GZIP_MIN_BYTES = 1024;

export interface UiSources {
  dir: string;
  cache: DiskCache;
  /** The pull-through cache: where a project's page is kept (as for pip), or why there is none. */
  preparePage?: (project: string) => Promise<{ dir?: string; unavailable?: string } | undefined>;
  /** The /health body. */
  health: () => Promise<{ body: Record<string, unknown> }>;
  /** The metrics of the whole server (every serving process). */
  metrics: () => Promise<{ snapshot: { values: SeriesValues }; processes: number; uptimeSeconds: number }>;
  version?: string;
  isCache: boolean;
  hasUploads: boolean;
}

function send(req: IncomingMessage, res: ServerResponse, status: number, type: string, text: string, cacheControl = 'no-cache'): void {
  const body = Buffer.from(text);
  const headers: Record<string, string> = { 'Content-Type': type, 'Cache-Control': cacheControl, ...SECURITY_HEADERS };
  const isPacked = body.length >= GZIP_MIN_BYTES && acceptsGzip(req.headers['accept-encoding']);
  if (isPacked) headers['Content-Encoding'] = 'gzip';
  sendBody(req, res, status, headers, isPacked ? gzipSync(body, { level: 6 }) : body);
}

const HTML = 'text/html; charset=utf-8';

function messagePage(uiRoot: string, title: string, message: string): string {
  return renderDocument({ title, uiRoot, main: `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>\n` });
}

/** The web page's handler over one mirror directory. */
export function createUiHandler(sources: UiSources): UiHandler {
  const data = new UiData(sources.dir, sources.cache);
  return async (req, res, view, query) => {
    const params = new URLSearchParams(query.startsWith('?') ? query.slice(1) : query);
    switch (view.page) {
      case 'list':
      case 'search': {
        const names = await data.projectNames();
        const q = (params.get('q') ?? '').slice(0, MAX_QUERY_CHARS);
        const page = view.page === 'search' ? 1 : Math.min(Math.max(1, Number.parseInt(params.get('page') ?? '1', 10) || 1), 1_000_000);
        const found = searchProjects(names, q, page, PAGE_SIZE);
        const list: ListView = { uiRoot: view.uiRoot, query: q, names: found.names, total: found.total, projectCount: names.length, page, pageSize: PAGE_SIZE };
        if (view.page === 'search') return send(req, res, 200, 'application/json; charset=utf-8', renderSearchJson(list));
        return send(req, res, 200, HTML, renderListPage(list));
      }
      case 'project':
        return serveProject(req, res, sources, data, view.project, params.get('v') ?? undefined);
      case 'status':
        return send(req, res, 200, HTML, renderStatusPage(await statusView(sources, data)), 'no-store');
    }
  };
}

async function serveProject(
  req: IncomingMessage,
  res: ServerResponse,
  sources: UiSources,
  data: UiData,
  project: string,
  version: string | undefined,
): Promise<void> {
  const plan = await sources.preparePage?.(project);
  const page = await data.projectPage(plan?.dir ?? join(sources.dir, project));
  if (page === undefined) {
    if (plan?.unavailable !== undefined) return send(req, res, 502, HTML, messagePage('../', project, plan.unavailable));
    return send(req, res, 404, HTML, messagePage('../', project, `No project named ${project} in this mirror.`));
  }
  let view: ProjectView = buildProjectView(project, page, version);
  const path = metadataFileOf(view.selected)?.path;
  const text = path === undefined ? undefined : await data.metadataText(path);
  if (text !== undefined) view = withMetadataText(view, text);
  return send(req, res, view.missingVersion === undefined ? 200 : 404, HTML, renderProjectPage(view));
}

async function statusView(sources: UiSources, data: UiData) {
  const [metrics, health, mirror, names] = await Promise.all([sources.metrics(), sources.health(), data.mirrorTotals(), data.projectNames()]);
  return buildStatusView({
    version: sources.version,
    uptimeSeconds: metrics.uptimeSeconds,
    processes: metrics.processes,
    values: metrics.snapshot.values,
    health: health.body,
    isCache: sources.isCache,
    hasUploads: sources.hasUploads,
    mirror,
    listedProjects: names.length,
  });
}
