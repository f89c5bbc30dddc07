// Find the mirror URL variables of one source (env or .env) in numeric order, the DIB element's contract.
import type { EnvMap } from './types.js';

export interface NamedUrl {
  name: string;
  value: string;
}

export interface MirrorUrlScan {
  /** DIB_PYPI_MIRROR_URL, then DIB_PYPI_MIRROR_URL_<N> by N as a number (upstream sorted names as strings: _10 before _2). */
  urls: NamedUrl[];
  /** Names that start like a mirror variable but are not one (upstream counted them). */
  ignoredNames: string[];
}

/** Scan `vars` for `<prefix>` and `<prefix>_<N>`; empty values are skipped (upstream kept them). */
export function scanMirrorUrls(vars: EnvMap, prefix: string): MirrorUrlScan {
  const exact = new RegExp(`^${prefix}(?:_(\\d+))?$`);
  const found: { name: string; value: string; order: bigint }[] = [];
  const ignoredNames: string[] = [];
  for (const [name, value] of Object.entries(vars)) {
    if (!name.startsWith(prefix)) continue;
    const match = exact.exec(name);
    if (!match) {
      ignoredNames.push(name);
      continue;
    }
    if (value === undefined || value.trim() === '') continue;
    // The bare name sorts before _0; BigInt keeps _99999999999999999999 exact.
    const order = match[1] === undefined ? -1n : BigInt(match[1]);
    found.push({ name, value, order });
  }
  found.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  ignoredNames.sort();
  return { urls: found.map(({ name, value }) => ({ name, value })), ignoredNames };
}

export const DIB_PREFIX = 'DIB_PYPI_MIRROR_URL';
export const LEGACY_PREFIX = 'PYPI_MIRROR_URL';
