// Plan -> the bytes of pip.conf and .pydistutils.cfg. Pure; rendered with the `ini` package.
import ini from 'ini';
import { InternalError } from '../errors.js';
import type { Plan } from '../plan/types.js';

const CONTAINER_HEADER = '# Mounted by dib-pypi for this step only; it is not part of the image.\n';
const HEADER = '# Written by dib-pypi for the image build; `dib-pypi restore` puts back what was here.\n';

export interface PipConfOptions {
  forContainer?: boolean;
  /** Where the target sees the lock (`--lock`): pip then installs only what it pins, by hash. */
  lock?: string;
}

/**
 * pip.conf `[global]`: index-url, extra-index-url, trusted-host, retries. pip splits the values of
 * its list options (extra-index-url, trusted-host) on whitespace, so one line each is enough.
 * No `log =` (upstream's /root/pip.log stayed in the image).
 */
export function renderPipConf(plan: Plan, options: PipConfOptions = {}): string {
  const global: Record<string, string | number> = { 'index-url': plan.indexUrl.url };
  if (plan.extraIndexUrls.length > 0) global['extra-index-url'] = plan.extraIndexUrls.map((i) => i.url).join(' ');
  if (plan.trustedHosts.length > 0) global['trusted-host'] = plan.trustedHosts.join(' ');
  if (plan.retries !== undefined) global.retries = plan.retries.value;
  if (options.forContainer === true) {
    // A container step's pip.conf is mounted only while the step runs: pip's cache (index pages
    // from the mirror) and its version check must not stay behind in the image either.
    global['no-cache-dir'] = 'true';
    global['disable-pip-version-check'] = 'true';
  }
  if (options.lock !== undefined) Object.assign(global, lockSettings(options.lock));
  return (options.forContainer === true ? CONTAINER_HEADER : HEADER) + encodeChecked({ global });
}

/**
 * Hash-checking mode for every pip install, download and wheel (pip 23, from its source):
 * - `require-hashes`: pip refuses any requirement that is not pinned with `==` and hashed; it is
 *   turned on by itself only when a requirement (never a constraint) carries `--hash`, so without
 *   it a plain `pip install foo` would still install whatever the mirror has.
 * - `constraint`: the lock's pins bind every install to the locked versions, even one whose own
 *   requirements carry other hashes. Its hashes alone prove nothing: pip uses a constraint's
 *   hashes only to choose among the index's links (resolvelib/factory.py) and, when none matches,
 *   keeps them all; the downloaded file is checked against the requirement's hashes only
 *   (operations/prepare.py). So the lock must also be given as a requirements file
 *   (`pip install -r LOCK`): that is what checks each file's bytes against the lock.
 * The pip that pip runs to fill an sdist's isolated build environment reads this same
 * configuration, and its requirements (`setuptools>=40.8.0`) carry no hash (build_env.py): an
 * sdist builds with `--no-build-isolation`; isolated, it fails rather than install unchecked tools.
 */
export function lockSettings(lockPath: string): Record<string, string> {
  return { 'require-hashes': 'true', constraint: lockPath };
}

/**
 * `.pydistutils.cfg` steers legacy setuptools `setup_requires` / easy_install, which take one
 * index: the first (the mirror). pip and PEP 517 builds ignore it.
 */
export function renderPydistutilsCfg(plan: Plan): string {
  return HEADER + encodeChecked({ easy_install: { index_url: plan.indexUrl.url } });
}

// ini quotes or escapes values that configparser would then read literally; parseIndexUrl keeps
// such characters out, and this check makes a slip a loud bug instead of a silent bad config.
function encodeChecked(data: Record<string, Record<string, string | number>>): string {
  const text = ini.encode(data, { whitespace: true });
  for (const section of Object.values(data)) {
    for (const value of Object.values(section)) {
      if (!text.includes(` = ${value}\n`)) throw new InternalError(`ini changed the value ${JSON.stringify(String(value))}`);
    }
  }
  return text;
}
