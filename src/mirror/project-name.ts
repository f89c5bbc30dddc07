// Project names as PEP 503 compares them.

/** PEP 503: runs of `-`, `_`, `.` collapse to `-`, lowercased. */
export function normalizeProjectName(name: string): string {
  // Most names arrive normalised already (root pages, directories, sync state): a character scan that finds
  // nothing to change returns the name itself; a sync normalises each of 5,000 names several times, and
  // the global replace cost ~1 us a call.
  let previous = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const isChange = (c >= 65 && c <= 90) || c === 95 || c === 46 || (c === 45 && previous === 45) || c > 127;
    if (isChange) return name.replace(/[-_.]+/g, '-').toLowerCase();
    previous = c;
  }
  return name;
}

/** Whether `name` is already normalised (the only names project directories may have). */
export function isNormalizedName(name: string): boolean {
  return /^[a-z0-9]+(-[a-z0-9]+)*$/.test(name);
}

/** PEP 508 names: ASCII letters and digits, with `-_.` inside. */
export function isValidProjectName(name: string): boolean {
  return /^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i.test(name);
}
