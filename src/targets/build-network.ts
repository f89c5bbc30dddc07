// Which network a build (or container step) gets when the user chose none: `none` when pip needs
// only the mounted mirror, `host` when an index is an http(s) URL on the loopback. Pure.
import { redact } from '../redact.js';
import type { Plan } from '../plan/types.js';

export interface NetworkChoice {
  network: 'none' | 'host';
  warnings: string[];
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

export function chooseNetwork(plan: Plan): NetworkChoice {
  const urls = [plan.indexUrl, ...plan.extraIndexUrls].map((i) => i.url);
  const remote = urls.filter((url) => !url.startsWith('file:'));
  const loopback = remote.filter((url) => LOOPBACK.test(hostOf(url) ?? ''));
  const elsewhere = remote.filter((url) => !LOOPBACK.test(hostOf(url) ?? ''));
  const warnings = elsewhere.map(
    (url) =>
      `${redact(url)} is out of reach: the build has no network besides ${loopback.length > 0 ? 'the loopback' : 'none'} (use --offline or --no-pypi to drop the public index, or give --network yourself)`,
  );
  return { network: loopback.length > 0 ? 'host' : 'none', warnings };
}
