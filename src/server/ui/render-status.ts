// The status page (as devpi's +status): the mirror's size, the cache's and the uploads' counts from the
// server's metrics, the upstreams' health, the version and uptime. Pure.
import { escapeHtml } from '../../pypi/render-pages.js';
import type { StatusView } from './model.js';
import { countOf, formatBytes, formatDuration, renderDocument } from './render-layout.js';

function figure(term: string, value: string, id?: string): string {
  return `<dt>${escapeHtml(term)}</dt><dd${id === undefined ? '' : ` id="${id}"`}>${escapeHtml(value)}</dd>`;
}

function counts(outcomes: Record<string, number>, empty: string): string {
  const entries = Object.entries(outcomes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return `<p class="muted">${escapeHtml(empty)}</p>\n`;
  return `<dl class="figures">${entries.map(([key, n]) => figure(key, n.toLocaleString('en-US'))).join('')}</dl>\n`;
}

function mirrorSection(view: StatusView): string {
  const rows = [figure('Projects listed', view.listedProjects.toLocaleString('en-US'), 'status-projects')];
  if (view.mirror === undefined) rows.push(figure('Files', 'unknown: the mirror has not been indexed by dib-pypi'));
  else {
    rows.push(
      figure('Projects with files', view.mirror.projects.toLocaleString('en-US')),
      figure('Files', view.mirror.files.toLocaleString('en-US'), 'status-files'),
      figure('Size', formatBytes(view.mirror.bytes), 'status-size'),
    );
  }
  return `<section aria-labelledby="mirror-h"><h2 id="mirror-h">Mirror</h2>\n<dl class="figures">${rows.join('')}</dl></section>\n`;
}

function cacheSection(view: StatusView): string {
  const cache = view.cache;
  if (cache === undefined) return '<section aria-labelledby="cache-h"><h2 id="cache-h">Cache</h2>\n<p>Not a pull-through cache: no upstream.</p></section>\n';
  const rows = cache.upstreams.map(
    (u) =>
      `<tr><th scope="row"><code>${escapeHtml(u.url)}</code></th><td>${escapeHtml(u.state)}</td><td>${u.lastError === undefined ? '' : escapeHtml(u.lastError)}</td></tr>`,
  );
  return (
    '<section aria-labelledby="cache-h"><h2 id="cache-h">Cache</h2>\n' +
    (cache.offline ? '<p>Offline: upstreams are not asked.</p>\n' : '') +
    '<div class="table-wrap"><table><thead><tr><th scope="col">Upstream</th><th scope="col">State</th><th scope="col">Last error</th></tr></thead>\n' +
    `<tbody>${rows.join('\n')}</tbody></table></div>\n` +
    '<h3>Answers since start</h3>\n' +
    counts(cache.results, 'No cached pages or files asked for yet.') +
    '</section>\n'
  );
}

/** The status page at `/+ui/+status`. */
export function renderStatusPage(view: StatusView): string {
  const problems = view.health.problems.length === 0 ? '' : `<ul>${view.health.problems.map((p) => `<li>${escapeHtml(p)}</li>`).join('')}</ul>\n`;
  const server = [
    figure('Health', view.health.status, 'status-health'),
    figure('Version', view.version ?? 'unknown', 'status-version'),
    figure('Uptime', formatDuration(view.uptimeSeconds), 'status-uptime'),
    figure('Serving processes', String(view.processes)),
    figure('Requests answered', view.requests.toLocaleString('en-US'), 'status-requests'),
  ];
  const uploads = view.uploads.enabled ? counts(view.uploads.outcomes, 'No uploads since start.') : '<p>Uploads are not enabled on this server.</p>\n';
  const main =
    '<h1>Status</h1>\n' +
    `<section aria-labelledby="server-h"><h2 id="server-h">Server</h2>\n<dl class="figures">${server.join('')}</dl>\n${problems}</section>\n` +
    mirrorSection(view) +
    cacheSection(view) +
    `<section aria-labelledby="uploads-h"><h2 id="uploads-h">Uploads</h2>\n${uploads}</section>\n` +
    `<p class="muted">${escapeHtml(countOf(view.listedProjects, 'project'))} listed. The same figures for machines: <a href="${escapeHtml(`${view.uiRoot}../metrics`)}">/metrics</a>, <a href="${escapeHtml(`${view.uiRoot}../health`)}">/health</a>.</p>\n`;
  return renderDocument({ title: 'Status', uiRoot: view.uiRoot, section: 'status', main });
}
