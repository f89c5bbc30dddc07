// A project's page: the chosen version's summary, install line, files and description, and every
// version newest first with the yanked ones marked. Pure; every package-controlled text is escaped,
// never taken as HTML (a description is shown as text, whatever markup it holds).
import { escapeHtml } from '../../pypi/render-pages.js';
import type { FileView, ProjectView, VersionView } from './model.js';
import { formatBytes, formatTime, renderDocument } from './render-layout.js';

/** Characters a shell takes as they are: a version of other characters is quoted in the install line. */
const SHELL_PLAIN = /^[A-Za-z0-9._+!=-]+$/;

/** `pip install NAME==VERSION`, the requirement single-quoted for a shell when it needs it. */
export function pipInstallLine(project: string, version: string): string {
  const requirement = `${project}==${version}`;
  return `pip install ${SHELL_PLAIN.test(requirement) ? requirement : `'${requirement.replaceAll("'", "'\\''")}'`}`;
}

function yankNote(yanked: true | string): string {
  return yanked === true ? 'yanked' : `yanked: ${yanked}`;
}

function fileRow(file: FileView): string {
  const name = file.href === undefined ? escapeHtml(file.filename) : `<a href="${escapeHtml(file.href)}">${escapeHtml(file.filename)}</a>`;
  const yank = file.yanked === undefined ? '' : ` <span class="yanked">${escapeHtml(yankNote(file.yanked))}</span>`;
  return (
    `<tr><th scope="row">${name}${yank}</th>` +
    `<td class="num">${file.size === undefined ? '<span class="muted">unknown</span>' : escapeHtml(formatBytes(file.size))}</td>` +
    `<td>${file.uploadTime === undefined ? '<span class="muted">unknown</span>' : escapeHtml(formatTime(file.uploadTime))}</td>` +
    `<td>${file.requiresPython === undefined ? '<span class="muted">any</span>' : `<code>${escapeHtml(file.requiresPython)}</code>`}</td>` +
    `<td class="hash"><code>${file.sha256 === undefined ? 'unknown' : escapeHtml(file.sha256)}</code></td></tr>`
  );
}

function filesTable(version: VersionView): string {
  return (
    '<section aria-labelledby="files-h">\n' +
    `<h2 id="files-h">Files of ${escapeHtml(version.version)}</h2>\n<div class="table-wrap"><table>\n` +
    '<thead><tr><th scope="col">File</th><th scope="col">Size</th><th scope="col">Uploaded</th><th scope="col">Requires-Python</th><th scope="col">SHA-256</th></tr></thead>\n' +
    `<tbody>\n${version.files.map(fileRow).join('\n')}\n</tbody></table></div>\n</section>\n`
  );
}

function installBox(project: string, version: string): string {
  return (
    '<section aria-labelledby="install-h">\n<h2 id="install-h">Install</h2>\n' +
    `<div class="install"><code id="pip-line">${escapeHtml(pipInstallLine(project, version))}</code>` +
    '<button type="button" data-copy="pip-line" hidden>Copy</button></div>\n</section>\n'
  );
}

function versionList(view: ProjectView): string {
  const items = view.versions.map((v) => {
    const current = v === view.selected ? ' aria-current="page"' : '';
    const yank = v.yanked === undefined ? '' : ` <span class="yanked">${escapeHtml(yankNote(v.yanked))}</span>`;
    return `<li><a href="?v=${escapeHtml(encodeURIComponent(v.version))}"${current}>${escapeHtml(v.version)}</a>${yank}</li>`;
  });
  return (
    '<section aria-labelledby="versions-h">\n' +
    `<h2 id="versions-h">Versions <span class="muted">(${view.versions.length}, newest first)</span></h2>\n` +
    `<ol class="versions">\n${items.join('\n')}\n</ol>\n</section>\n`
  );
}

function descriptionBlock(view: ProjectView): string {
  if (view.description === undefined) return '';
  const cut = view.isDescriptionCut ? '<p class="muted">The description is longer; the rest is not shown.</p>\n' : '';
  return (
    '<section aria-labelledby="description-h">\n<h2 id="description-h">Description</h2>\n' +
    `<pre class="description">${escapeHtml(view.description)}</pre>\n${cut}</section>\n`
  );
}

/** The project page at `/+ui/<project>/` (`?v=VERSION` for another version). */
export function renderProjectPage(view: ProjectView): string {
  const selected = view.selected;
  const heading = escapeHtml(view.displayName ?? view.project) + (selected === undefined ? '' : ` <span class="muted">${escapeHtml(selected.version)}</span>`);
  const parts = [
    `<nav aria-label="Breadcrumb"><a href="${escapeHtml(view.uiRoot)}">Projects</a> / ${escapeHtml(view.project)}</nav>\n`,
    `<h1>${heading}</h1>\n`,
  ];
  if (view.summary !== undefined) parts.push(`<p class="summary">${escapeHtml(view.summary)}</p>\n`);
  if (view.missingVersion !== undefined)
    parts.push(`<p role="alert">${escapeHtml(view.project)} has no version ${escapeHtml(view.missingVersion)} in this mirror.</p>\n`);
  if (view.versions.length === 0) parts.push('<p>This project has no files in this mirror.</p>\n');
  if (selected !== undefined) {
    if (selected.yanked !== undefined)
      parts.push(
        `<p><span class="yanked">${escapeHtml(`This version is ${yankNote(selected.yanked)}`)}</span> pip installs it only when asked for by this exact version.</p>\n`,
      );
    parts.push(installBox(view.project, selected.version), filesTable(selected));
  }
  parts.push(descriptionBlock(view));
  if (view.versions.length > 0) parts.push(versionList(view));
  const title = selected === undefined ? view.project : `${view.project} ${selected.version}`;
  return renderDocument({ title, uiRoot: view.uiRoot, main: parts.join('') });
}
