// Which resource a request path names (pure): index pages at `/` and `/simple/`, the web page under `/+ui/`, files, health, metrics, uploads.
import { isNormalizedName, isValidProjectName, normalizeProjectName } from '../pypi/project-name.js';
import { isDistName } from '../pypi/dist-filename.js';

export type Route =
  /** `ui`: a page of the web page for people (server/ui/), which goes where index pages go. */
  | { kind: 'root'; prefix: string; ui?: 'list' | 'search' | 'status' }
  | { kind: 'project'; prefix: string; project: string; ui?: true }
  /** A distribution file or its `.metadata`; `project` is undefined for a loose file at the top. */
  | { kind: 'file'; prefix: string; project: string | undefined; filename: string }
  | { kind: 'redirect'; location: string }
  | { kind: 'health' }
  | { kind: 'metrics' }
  /** A write: an upload form (twine's legacy API, pypiserver's remove_pkg) or, with `change`, the JSON change API. */
  | { kind: 'upload'; change?: ChangeAction }
  | { kind: 'not-found' };

const METADATA_SUFFIX = '.metadata';

/** The JSON change API: `POST /+api/<action>` (`+` is in no project name). */
export type ChangeAction = 'remove' | 'yank' | 'unyank' | 'cache' | 'invalidate';
const CHANGE_ACTIONS: readonly string[] = ['remove', 'yank', 'unyank', 'cache', 'invalidate'] satisfies ChangeAction[];

function postRoute(pathname: string): Route {
  if (pathname === '/' || pathname === '/legacy' || pathname === '/legacy/') return { kind: 'upload' };
  const action = /^\/\+api\/([a-z]+)$/.exec(pathname)?.[1];
  return action !== undefined && CHANGE_ACTIONS.includes(action) ? { kind: 'upload', change: action as ChangeAction } : { kind: 'not-found' };
}

/** A file the server hands out: a distribution, or a wheel's PEP 658 metadata. */
export function isServedFile(name: string): boolean {
  if (name.startsWith('.')) return false;
  return isDistName(name) || (name.endsWith(METADATA_SUFFIX) && isDistName(name.slice(0, -METADATA_SUFFIX.length)));
}

/**
 * Suffixes of files browsers, crawlers and scanners ask a web server for (`/favicon.ico`,
 * `/robots.txt`, `/sitemap.xml`, `/wp-login.php`, ...).
 */
const WEB_FILE_SUFFIX = /\.(ico|txt|xml|png|jpe?g|gif|svg|webp|css|js|map|html?|json|php|aspx?|jsp|cgi|webmanifest|env|bak|sql|cfg|ini|ya?ml|gz|zip)$/i;

/**
 * A path segment that names a web file, not a project: a name with a dot in it is never a
 * normalised project name, which is all pip asks for (PEP 503 `/<normalized>/`), so only the
 * convenience redirects of names written by hand are given up for these, never a project page:
 * a project really called `favicon.ico` still answers at `/favicon-ico/`.
 */
export function isWebFileName(name: string): boolean {
  return WEB_FILE_SUFFIX.test(name);
}

function decode(segment: string): string | undefined {
  try {
    const text = decodeURIComponent(segment);
    return text.includes('/') || text.includes('\\') || text.includes('\0') ? undefined : text;
  } catch {
    return undefined;
  }
}

/**
 * Route a request. `pathname` is the raw (still percent-encoded) path of the request URL. The index
 * answers at `/` and at `/simple/`; uploads (twine's legacy API) are POSTs to `/` or `/legacy/`, changes to `/+api/<action>`.
 */
export function route(method: string, pathname: string): Route {
  if (method === 'POST') return postRoute(pathname);
  if (pathname === '/health') return { kind: 'health' };
  if (pathname === '/metrics') return { kind: 'metrics' };
  if (pathname === '/simple') return { kind: 'redirect', location: '/simple/' };
  if (pathname === UI_PREFIX || pathname.startsWith(`${UI_PREFIX}/`)) return routeUi(pathname.slice(UI_PREFIX.length));
  let prefix = '';
  let rest = pathname;
  if (pathname.startsWith('/simple/')) {
    prefix = '/simple';
    rest = pathname.slice(prefix.length);
  }
  if (!rest.startsWith('/')) return { kind: 'not-found' };
  const parts = rest.slice(1).split('/');
  const segments = parts.map(decode);
  if (segments.some((segment) => segment === undefined)) return { kind: 'not-found' };
  const [first, second] = segments as string[];
  if (parts.length === 1) {
    if (first === '') return { kind: 'root', prefix };
    if (first === 'index.html' || first === 'index.json') return { kind: 'root', prefix };
    if (isServedFile(first as string)) return { kind: 'file', prefix, project: undefined, filename: first as string };
    // `/name` without the slash: the project page lives at `/name/` (but `/favicon.ico` is no project).
    if (isValidProjectName(first as string) && !isWebFileName(first as string))
      return { kind: 'redirect', location: `${prefix}/${normalizeProjectName(first as string)}/` };
    return { kind: 'not-found' };
  }
  const project = first as string;
  if (!isValidProjectName(project)) return { kind: 'not-found' };
  if (parts.length === 2) {
    if (second === '' || second === 'index.html' || second === 'index.json') {
      // PEP 503: a name that is not normalised redirects to the normalised one (`/robots.txt/` is no project).
      if (!isNormalizedName(project) && isWebFileName(project)) return { kind: 'not-found' };
      if (!isNormalizedName(project)) return { kind: 'redirect', location: `${prefix}/${normalizeProjectName(project)}/` };
      return { kind: 'project', prefix, project };
    }
    if (isNormalizedName(project) && isServedFile(second as string)) return { kind: 'file', prefix, project, filename: second as string };
    return { kind: 'not-found' };
  }
  return { kind: 'not-found' };
}

/** The web page's prefix: `+` is in no project name, so no project page is hidden by it. */
export const UI_PREFIX = '/+ui';

const UI_PAGES: Record<string, 'list' | 'search' | 'status'> = { '/': 'list', '/+search': 'search', '/+status': 'status' };

/** `rest`: the path after `/+ui`. A project's page is `/+ui/<normalized>/`; other spellings redirect there. */
function routeUi(rest: string): Route {
  if (rest === '') return { kind: 'redirect', location: `${UI_PREFIX}/` };
  const page = UI_PAGES[rest];
  if (page !== undefined) return { kind: 'root', prefix: UI_PREFIX, ui: page };
  const parts = rest.slice(1).split('/');
  const name = decode(parts[0] as string);
  if (name === undefined || !isValidProjectName(name) || parts.length > 2 || (parts.length === 2 && parts[1] !== '')) return { kind: 'not-found' };
  if (parts.length === 1 || !isNormalizedName(name)) return { kind: 'redirect', location: `${UI_PREFIX}/${normalizeProjectName(name)}/` };
  return { kind: 'project', prefix: UI_PREFIX, project: name, ui: true };
}
