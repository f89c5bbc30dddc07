// Plan -> the bytes of pip.conf and .pydistutils.cfg. Pure; rendered with the `ini` package.
import ini from 'ini';
import { InternalError } from '../errors.js';
import type { Plan } from '../plan/types.js';

const CONTAINER_HEADER = '# Mounted by dib-pypi for this step only; it is not part of the image.\n';
const HEADER = '# Written by dib-pypi for the image build; `dib-pypi restore` puts back what was here.\n';

/**
 * pip.conf `[global]`: index-url, extra-index-url, trusted-host, retries. pip splits the values of
 * its list options (extra-index-url, trusted-host) on whitespace, so one line each is enough.
 * No `log =` (upstream's /root/pip.log stayed in the image).
 */
export function renderPipConf(plan: Plan, options: { forContainer?: boolean } = {}): string {
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
  return (options.forContainer === true ? CONTAINER_HEADER : HEADER) + encodeChecked({ global });
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
