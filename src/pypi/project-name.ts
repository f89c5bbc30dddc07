// Project names as PEP 503 compares them.

/** PEP 503: runs of `-`, `_`, `.` collapse to `-`, lowercased. */
export function normalizeProjectName(name: string): string {
  // Most names arrive normalised already (root pages, directories, sync state), and a name that is comes out
  // of the rule unchanged: testing for it allocates nothing, where the global replace allocates a
  // string on every call (a sync normalises each name several times).
  return isNormalizedName(name) ? name : name.replace(/[-_.]+/g, '-').toLowerCase();
}

/** Whether `name` is already normalised (the only names project directories may have). */
export function isNormalizedName(name: string): boolean {
  return /^[a-z0-9]+(-[a-z0-9]+)*$/.test(name);
}

/** PEP 508 names: ASCII letters and digits, with `-_.` inside. */
export function isValidProjectName(name: string): boolean {
  return /^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i.test(name);
}
