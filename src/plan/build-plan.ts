// flags + environment + .env -> one validated Plan. Pure: no disk, clock or network.
import { redact } from '../redact.js';
import { DIB_PREFIX, LEGACY_PREFIX, scanMirrorUrls, type NamedUrl } from './collect-mirror-urls.js';
import { parseFlagVariable, parseIndexUrl, parseRetries } from './parse-values.js';
import { DEFAULT_MIRROR_URL, PUBLIC_INDEX_URL, type EnvMap, type IndexUrl, type Plan, type PlanInput, type Sourced, type ValueSource } from './types.js';

/** Variables that make pip ignore or extend what pip.conf says (pip reads PIP_* after every file). */
const COMPETING_PIP_VARIABLES = [
  'PIP_CONFIG_FILE',
  'PIP_INDEX_URL',
  'PIP_EXTRA_INDEX_URL',
  'PIP_NO_INDEX',
  'PIP_FIND_LINKS',
  'PIP_TRUSTED_HOST',
  'PIP_ISOLATED_MODE',
];

/** Build the plan. Throws UsageError (exit 2) naming the first bad value. */
export function buildPlan(input: PlanInput): Plan {
  const warnings: string[] = [];
  const dotenvLabel = `.env file ${input.dotenvPath ?? '.env'}`;
  const indexes = collectIndexes(input, dotenvLabel, warnings);
  const offline = pickBoolean(input, 'offline', 'DIB_OFFLINE', '--offline', dotenvLabel);
  const noPypi = pickBoolean(input, 'noPypi', 'DIB_NO_PYPI_PIP', '--no-pypi', dotenvLabel);
  const retries = pickRetries(input, dotenvLabel);

  if (!offline.value && !noPypi.value) {
    indexes.push({ url: PUBLIC_INDEX_URL, source: 'default', origin: 'public index (neither offline nor DIB_NO_PYPI_PIP)' });
  }
  for (const name of COMPETING_PIP_VARIABLES) {
    const value = input.env[name];
    if (value !== undefined && value !== '') {
      warnings.push(`${name}=${redact(value)} is set: pip run with this environment reads it after pip.conf and may bypass the mirror`);
    }
  }
  const [indexUrl, ...extraIndexUrls] = indexes as [IndexUrl, ...IndexUrl[]];
  return { indexUrl, extraIndexUrls, trustedHosts: trustedHostsOf(indexes), retries, offline, noPypi, warnings };
}

function collectIndexes(input: PlanInput, dotenvLabel: string, warnings: string[]): IndexUrl[] {
  const flagUrls = input.flags.mirrorUrls ?? [];
  if (flagUrls.length > 0) {
    return flagUrls.map((raw, i) => {
      const origin = flagUrls.length === 1 ? '--mirror-url' : `--mirror-url #${i + 1}`;
      return { url: parseIndexUrl(raw, origin), source: 'flag', origin };
    });
  }
  // The whole list comes from one source: mixing env and .env entries would make the order a puzzle.
  const fromEnv = urlsOfSource(input.env, 'env', '', warnings);
  if (fromEnv.length > 0) return fromEnv;
  const fromDotenv = urlsOfSource(input.dotenv, 'dotenv', `${dotenvLabel}: `, warnings);
  if (fromDotenv.length > 0) return fromDotenv;
  warnings.push(`no DIB_PYPI_MIRROR_URL set: using ${DEFAULT_MIRROR_URL} (the mirror bind-mounted into the image root)`);
  return [{ url: DEFAULT_MIRROR_URL, source: 'default', origin: 'default mirror' }];
}

function urlsOfSource(vars: EnvMap, source: ValueSource, label: string, warnings: string[]): IndexUrl[] {
  const dib = scanMirrorUrls(vars, DIB_PREFIX);
  const legacy = scanMirrorUrls(vars, LEGACY_PREFIX);
  for (const name of [...dib.ignoredNames, ...legacy.ignoredNames]) {
    warnings.push(`${label}${name} ignored: mirror variables are ${DIB_PREFIX} and ${DIB_PREFIX}_<N>`);
  }
  let chosen: NamedUrl[] = dib.urls;
  if (dib.urls.length > 0 && legacy.urls.length > 0) {
    warnings.push(
      `${label}both ${DIB_PREFIX}* and deprecated ${LEGACY_PREFIX}* are set: using ${DIB_PREFIX}*, ignoring ${legacy.urls.map((u) => u.name).join(', ')}`,
    );
  } else if (legacy.urls.length > 0) {
    warnings.push(`${label}${LEGACY_PREFIX}* is deprecated: rename ${legacy.urls.map((u) => u.name).join(', ')} to ${DIB_PREFIX}*`);
    chosen = legacy.urls;
  }
  return chosen.map(({ name, value }) => {
    const origin = source === 'dotenv' ? `${label}${name}` : name;
    return { url: parseIndexUrl(value, origin), source, origin };
  });
}

function pickBoolean(input: PlanInput, flag: 'offline' | 'noPypi', variable: string, flagName: string, dotenvLabel: string): Sourced<boolean> {
  if (input.flags[flag]) return { value: true, source: 'flag', origin: flagName };
  // An empty variable counts as unset and falls through to .env, as for the URLs and retries.
  const fromEnv = input.env[variable];
  if (fromEnv !== undefined && fromEnv !== '') return { value: parseFlagVariable(fromEnv), source: 'env', origin: variable };
  const fromDotenv = input.dotenv[variable];
  if (fromDotenv !== undefined && fromDotenv !== '') {
    return { value: parseFlagVariable(fromDotenv), source: 'dotenv', origin: `${dotenvLabel}: ${variable}` };
  }
  return { value: false, source: 'default', origin: 'default' };
}

function pickRetries(input: PlanInput, dotenvLabel: string): Sourced<number> | undefined {
  if (input.flags.retries !== undefined) {
    return { value: parseRetries(input.flags.retries, '--retries'), source: 'flag', origin: '--retries' };
  }
  const fromEnv = input.env.DIB_PIP_RETRIES;
  if (fromEnv !== undefined && fromEnv !== '') {
    return { value: parseRetries(fromEnv, 'DIB_PIP_RETRIES'), source: 'env', origin: 'DIB_PIP_RETRIES' };
  }
  const fromDotenv = input.dotenv.DIB_PIP_RETRIES;
  if (fromDotenv !== undefined && fromDotenv !== '') {
    const origin = `${dotenvLabel}: DIB_PIP_RETRIES`;
    return { value: parseRetries(fromDotenv, origin), source: 'dotenv', origin };
  }
  return undefined;
}

/** pip only talks plain http to trusted hosts; upstream trusted just the first URL (and wrote `None` for file://). */
function trustedHostsOf(indexes: IndexUrl[]): string[] {
  const hosts: string[] = [];
  for (const { url } of indexes) {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:') continue;
    // URL.host keeps an explicit port (pip accepts host or host:port) and never the credentials.
    // An IPv6 literal is trusted bare (`::1`, any port; pip brackets it itself): `ini` would quote
    // a value starting with `[`, and configparser would then keep the quotes.
    const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.host;
    if (!hosts.includes(host)) hosts.push(host);
  }
  return hosts;
}
