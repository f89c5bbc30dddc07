// PEP 440 version order for the versions of one project's page. Pure.
import { compare, valid } from '@renovatebot/pep440';

/** A version that is only a release segment (`1.2.10`): PEP 440 orders these by their numbers alone. */
const PLAIN_RELEASE = /^\d+(?:\.\d+)*$/;

/** Two plain releases in PEP 440 order: number by number, a missing one counting as 0 (`1.0` equals `1.0.0`). */
function comparePlainReleases(a: string, b: string): number {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = Number(x[i] ?? 0);
    const q = Number(y[i] ?? 0);
    if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Distinct versions in PEP 440 order (text order for versions PEP 440 cannot parse; text order
 * between versions PEP 440 holds equal). Plain releases, most versions, are compared without
 * the PEP 440 parser, which parses both versions anew on every comparison (a large part of the
 * main thread's work in a full index).
 */
export function sortVersions(versions: Iterable<string>): string[] {
  const kinds = new Map<string, 'plain' | 'pep440' | 'other'>();
  for (const version of versions) if (!kinds.has(version)) kinds.set(version, PLAIN_RELEASE.test(version) ? 'plain' : valid(version) ? 'pep440' : 'other');
  return [...kinds.keys()].sort((a, b) => {
    const ka = kinds.get(a);
    const kb = kinds.get(b);
    if (ka === 'plain' && kb === 'plain') return comparePlainReleases(a, b) || byText(a, b);
    if (ka !== 'other' && kb !== 'other') return compare(a, b) || byText(a, b);
    return byText(a, b);
  });
}
