// The frame of every web page (head, header with the site's navigation, main landmark, inline style
// and script) and the small formatters the pages share. Pure: every text is escaped here or by the caller.
import { escapeHtml } from '../../pypi/render-pages.js';
import { SCRIPT, STYLE } from './assets.js';

export type Section = 'projects' | 'status';

export interface DocumentParts {
  title: string;
  /** Relative URL of `/+ui/` from the page. */
  uiRoot: string;
  /** The navigation entry to mark as the current page. */
  section?: Section;
  /** The main landmark's HTML, already escaped. */
  main: string;
}

function navLink(href: string, label: string, isCurrent: boolean): string {
  return `<li><a href="${escapeHtml(href)}"${isCurrent ? ' aria-current="page"' : ''}>${label}</a></li>`;
}

/** A whole page: one `<style>` and one `<script>`, the bytes the Content-Security-Policy hashes allow. */
export function renderDocument(parts: DocumentParts): string {
  const root = parts.uiRoot;
  return (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    `<title>${escapeHtml(parts.title)} - dib-pypi</title>\n<style>${STYLE}</style>\n</head>\n<body>\n` +
    '<a class="skip" href="#main">Skip to content</a>\n' +
    `<header><a class="brand" href="${escapeHtml(root)}">dib-pypi mirror</a>\n<nav aria-label="Site"><ul>` +
    navLink(root, 'Projects', parts.section === 'projects') +
    navLink(`${root}+status`, 'Status', parts.section === 'status') +
    navLink(`${root}../simple/`, 'Simple index', false) +
    '</ul></nav></header>\n' +
    `<main id="main" tabindex="-1">\n${parts.main}</main>\n` +
    "<footer>Served by dib-pypi. pip reads the simple index: <code>--index-url</code> this server's <code>/simple/</code> or <code>/</code>.</footer>\n" +
    `<script>${SCRIPT}</script>\n</body>\n</html>\n`
  );
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Bytes for people: `999 B`, `1.5 KiB`, `12.3 MiB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value < 10 ? value.toFixed(1) : Math.round(value)} ${UNITS[unit]}`;
}

/** A duration for people: `42 s`, `5 min 3 s`, `2 h 5 min`, `3 d 4 h`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const [d, h, m] = [Math.floor(s / 86400), Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60)];
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${s % 60} s`;
  return `${s} s`;
}

/** An ISO 8601 UTC time as `2024-05-01 12:30 UTC`; text that is no such time is shown as it is (escaped by the caller). */
export function formatTime(iso: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(?:Z|\+00:00)$/.exec(iso);
  return match === null ? iso : `${match[1]} ${match[2]} UTC`;
}

/** `n thing` / `n things`, with thousands separated by a thin space-free comma (`5,000 projects`). */
export function countOf(n: number, singular: string, plural = `${singular}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? singular : plural}`;
}
