// The project list with its search: a form that works without JavaScript (`?q=`, `?page=`), one
// page of names in the DOM at a time, and the search answer the script asks for as the user types. Pure.
import { encodeSegment, escapeHtml } from '../../pypi/render-pages.js';
import type { ListView } from './model.js';
import { countOf, renderDocument } from './render-layout.js';

/** The line above the names: how many match, and which of them are shown. */
export function listSummary(view: ListView): string {
  const first = (view.page - 1) * view.pageSize + 1;
  const last = first + view.names.length - 1;
  const shown = view.names.length === 0 ? '' : view.total > view.names.length ? `; showing ${first}-${last}` : '';
  if (view.query.trim() === '') return `${countOf(view.total, 'project')} in this mirror${shown}.`;
  return `${countOf(view.total, 'project')} of ${view.projectCount.toLocaleString('en-US')} match \u201c${view.query}\u201d${shown}.`;
}

function pageHref(query: string, page: number): string {
  const params = new URLSearchParams();
  if (query !== '') params.set('q', query);
  if (page > 1) params.set('page', String(page));
  const text = params.toString();
  return text === '' ? '?' : `?${text}`;
}

function pager(view: ListView): string {
  const links: string[] = [];
  if (view.page > 1) links.push(`<a rel="prev" href="${escapeHtml(pageHref(view.query, view.page - 1))}">Previous page</a>`);
  if (view.page * view.pageSize < view.total) links.push(`<a rel="next" href="${escapeHtml(pageHref(view.query, view.page + 1))}">Next page</a>`);
  return links.join(' ');
}

/** The list page: at `/` for a browser and at `/+ui/`. */
export function renderListPage(view: ListView): string {
  const root = view.uiRoot;
  const items = view.names.map((name) => `<li><a href="${escapeHtml(`${root}${encodeSegment(name)}/`)}">${escapeHtml(name)}</a></li>`).join('\n');
  const main =
    '<h1>Projects</h1>\n' +
    `<form id="search" role="search" action="${escapeHtml(root)}" method="get" data-root="${escapeHtml(root)}" data-search="${escapeHtml(`${root}+search`)}">\n` +
    '<label for="q">Search projects by name</label>\n' +
    `<div class="searchrow"><input id="q" name="q" type="search" value="${escapeHtml(view.query)}" autocomplete="off" spellcheck="false" aria-describedby="count" aria-controls="results">` +
    '<button type="submit">Search</button></div>\n</form>\n' +
    `<p id="count" aria-live="polite">${escapeHtml(listSummary(view))}</p>\n` +
    `<ul id="results" class="results">\n${items}\n</ul>\n` +
    `<nav id="pager" class="pager" aria-label="Pages">${pager(view)}</nav>\n`;
  const title = view.query.trim() === '' ? 'Projects' : `Projects matching ${view.query}`;
  return renderDocument({ title, uiRoot: root, section: 'projects', main });
}

/** The answer to the script's search (`+search?q=`): the first page of names and the summary line. */
export function renderSearchJson(view: ListView): string {
  return `${JSON.stringify({ query: view.query, total: view.total, names: view.names, summary: listSummary(view) })}\n`;
}
