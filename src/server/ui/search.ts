// Project search for the web page: a name filter over the root page's project list. Pure.

/** Names a list page or a search answer shows at most. */
export const PAGE_SIZE = 100;
/** Longest query looked at (longer ones are cut: no project name is that long to type). */
export const MAX_QUERY_CHARS = 200;

/** The query as a project name would be spelled once normalised (PEP 503: runs of -_. are one -, lower case). */
export function normalizeQuery(query: string): string {
  return query
    .slice(0, MAX_QUERY_CHARS)
    .trim()
    .toLowerCase()
    .replace(/[-_.\s]+/g, '-');
}

export interface SearchResult {
  /** The page of matching names asked for. */
  names: string[];
  total: number;
}

/**
 * The projects whose normalised name contains the query: the exact name first, then names starting
 * with it, then the rest, each group in the list's (alphabetical) order; `page` (1-based) of
 * `pageSize`. An empty query matches every project. One pass over the names, no sort: cheap for
 * tens of thousands of projects.
 */
export function searchProjects(names: readonly string[], query: string, page = 1, pageSize = PAGE_SIZE): SearchResult {
  const needle = normalizeQuery(query);
  const start = (Math.max(1, Math.floor(page)) - 1) * pageSize;
  if (needle === '') return { names: names.slice(start, start + pageSize), total: names.length };
  const exact: string[] = [];
  const prefix: string[] = [];
  const inside: string[] = [];
  for (const name of names) {
    const at = name.indexOf(needle);
    if (at === -1) continue;
    if (at > 0) inside.push(name);
    else if (name.length === needle.length) exact.push(name);
    else prefix.push(name);
  }
  const total = exact.length + prefix.length + inside.length;
  const wanted: string[] = [];
  for (const group of [exact, prefix, inside]) {
    for (const name of group) {
      if (wanted.length >= start + pageSize) break;
      wanted.push(name);
    }
  }
  return { names: wanted.slice(start), total };
}
