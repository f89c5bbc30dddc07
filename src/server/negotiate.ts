// PEP 691 content negotiation: which representation of an index page a request gets (pure).
import { JSON_CONTENT_TYPE } from '../pypi/render-pages.js';

export type PageFormat = 'json' | 'html';

export interface Representation {
  format: PageFormat;
  /** The Content-Type to answer with: the media type the client asked for, where it named one. */
  contentType: string;
}

export const HTML_V1_TYPE = 'application/vnd.pypi.simple.v1+html';
export const TEXT_HTML_TYPE = 'text/html; charset=utf-8';

const JSON_REP: Representation = { format: 'json', contentType: JSON_CONTENT_TYPE };
const HTML_V1_REP: Representation = { format: 'html', contentType: HTML_V1_TYPE };
const TEXT_HTML_REP: Representation = { format: 'html', contentType: TEXT_HTML_TYPE };

/**
 * What each media type stands for, and its rank among equal q-values: PEP 691 lets the server
 * choose on a tie; we prefer JSON (it carries upload-time, PEP 700) over HTML, and a named type
 * over a wildcard. A wildcard gets HTML, the one format every client reads.
 */
const MEDIA: Record<string, { rep: Representation; rank: number }> = {
  'application/vnd.pypi.simple.v1+json': { rep: JSON_REP, rank: 5 },
  'application/vnd.pypi.simple.latest+json': { rep: JSON_REP, rank: 5 },
  'application/vnd.pypi.simple.v1+html': { rep: HTML_V1_REP, rank: 4 },
  'application/vnd.pypi.simple.latest+html': { rep: HTML_V1_REP, rank: 4 },
  'text/html': { rep: TEXT_HTML_REP, rank: 3 },
  'text/*': { rep: TEXT_HTML_REP, rank: 1 },
  'application/*': { rep: TEXT_HTML_REP, rank: 1 },
  '*/*': { rep: TEXT_HTML_REP, rank: 0 },
};

/** `?format=` (PEP 691: a media type) also takes the short forms `json` and `html`. */
const FORMAT_PARAM: Record<string, Representation> = { json: JSON_REP, html: TEXT_HTML_REP };

/** The `q` of a media range's parameters (1 when absent, 0 when malformed). */
export function qValue(params: string[]): number {
  for (const param of params) {
    const [key, value] = param.split('=', 2).map((part) => part.trim());
    if (key?.toLowerCase() !== 'q') continue;
    const q = Number(value);
    return Number.isFinite(q) && q >= 0 && q <= 1 ? q : 0;
  }
  return 1;
}

/**
 * The representation for an `Accept` header and an optional `?format=` value. No Accept header, or
 * one that accepts neither format, means HTML (PEP 503 clients send none; PEP 691 lets a server pick
 * a default instead of 406), as the generated nginx configuration does.
 */
export function negotiate(accept: string | undefined, format?: string | null): Representation {
  if (format !== undefined && format !== null && format !== '') {
    const key = format.trim().toLowerCase();
    return FORMAT_PARAM[key] ?? MEDIA[key]?.rep ?? TEXT_HTML_REP;
  }
  if (accept === undefined || accept.trim() === '') return TEXT_HTML_REP;
  let best: { rep: Representation; q: number; rank: number } | undefined;
  for (const item of accept.split(',')) {
    const [type, ...params] = item.split(';');
    const media = MEDIA[(type ?? '').trim().toLowerCase()];
    if (media === undefined) continue;
    const q = qValue(params);
    if (q === 0) continue;
    if (best === undefined || q > best.q || (q === best.q && media.rank > best.rank)) best = { rep: media.rep, q, rank: media.rank };
  }
  return best?.rep ?? TEXT_HTML_REP;
}
