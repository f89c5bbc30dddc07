// buildPlan: flags > env > .env, mirror URL order and names, booleans, retries, trusted hosts, bad URLs, PIP_* warnings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPlan } from '../../../src/plan/build-plan.js';
import { UsageError } from '../../../src/errors.js';
import type { IndexUrl, Plan, PlanFlags, PlanInput, Sourced } from '../../../src/plan/types.js';

interface Input {
  flags?: PlanFlags;
  env?: Record<string, string | undefined>;
  dotenv?: Record<string, string | undefined>;
  dotenvPath?: string;
}

function plan(input: Input): Plan {
  const full: PlanInput = { flags: input.flags ?? {}, env: input.env ?? {}, dotenv: input.dotenv ?? {} };
  if (input.dotenvPath !== undefined) full.dotenvPath = input.dotenvPath;
  return buildPlan(full);
}

const PUBLIC: IndexUrl = { url: 'https://pypi.org/simple', source: 'default', origin: 'public index (neither offline nor DIB_NO_PYPI_PIP)' };
const DEFAULT_MIRROR: IndexUrl = { url: 'file:///tmp/pypi', source: 'default', origin: 'default mirror' };
const NO_URL_WARNING = 'no DIB_PYPI_MIRROR_URL set: using file:///tmp/pypi (the mirror bind-mounted into the image root)';
const UNSET: Sourced<boolean> = { value: false, source: 'default', origin: 'default' };
const ignoredWarning = (name: string, label = ''): string => `${label}${name} ignored: mirror variables are DIB_PYPI_MIRROR_URL and DIB_PYPI_MIRROR_URL_<N>`;
const env = (url: string, origin: string): IndexUrl => ({ url, source: 'env', origin });
const dot = (url: string, name: string, path = '.env'): IndexUrl => ({ url, source: 'dotenv', origin: `.env file ${path}: ${name}` });
const flag = (url: string, origin: string): IndexUrl => ({ url, source: 'flag', origin });

/** The indexes in pip's order: index-url first, then every extra-index-url. */
const indexesOf = (p: Plan): IndexUrl[] => [p.indexUrl, ...p.extraIndexUrls];

/** Assert that `run` throws a UsageError (exit 2) with exactly `message` and `source`. */
function assertUsageError(run: () => unknown, message: string, source: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof UsageError, `expected UsageError, got ${String(error)}`);
    assert.equal(error.exitCode, 2);
    assert.equal(error.message, message);
    assert.equal(error.source, source);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// Whole plans: the exact object for the common shapes.

const WHOLE_PLANS: { name: string; input: Input; expected: Plan }[] = [
  {
    name: 'nothing set: default mirror, public index, warning',
    input: {},
    expected: {
      indexUrl: DEFAULT_MIRROR,
      extraIndexUrls: [PUBLIC],
      trustedHosts: [],
      retries: undefined,
      offline: UNSET,
      noPypi: UNSET,
      warnings: [NO_URL_WARNING],
    },
  },
  {
    name: 'DIB env with credentials, _2 and _10, retries, offline',
    input: {
      env: {
        DIB_PYPI_MIRROR_URL: 'http://user:s3cret@mirror.local:8080/simple/',
        DIB_PYPI_MIRROR_URL_10: 'http://ten.local/simple/',
        DIB_PYPI_MIRROR_URL_2: 'https://two.example/simple/',
        DIB_PIP_RETRIES: '5',
        DIB_OFFLINE: '1',
      },
    },
    expected: {
      indexUrl: env('http://user:s3cret@mirror.local:8080/simple/', 'DIB_PYPI_MIRROR_URL'),
      extraIndexUrls: [env('https://two.example/simple/', 'DIB_PYPI_MIRROR_URL_2'), env('http://ten.local/simple/', 'DIB_PYPI_MIRROR_URL_10')],
      trustedHosts: ['mirror.local:8080', 'ten.local'],
      retries: { value: 5, source: 'env', origin: 'DIB_PIP_RETRIES' },
      offline: { value: true, source: 'env', origin: 'DIB_OFFLINE' },
      noPypi: UNSET,
      warnings: [],
    },
  },
  {
    name: 'flags only',
    input: { flags: { mirrorUrls: ['file:///srv/mirror', 'http://127.0.0.1:3141/simple/'], noPypi: true, retries: '0' } },
    expected: {
      indexUrl: flag('file:///srv/mirror', '--mirror-url #1'),
      extraIndexUrls: [flag('http://127.0.0.1:3141/simple/', '--mirror-url #2')],
      trustedHosts: ['127.0.0.1:3141'],
      retries: { value: 0, source: 'flag', origin: '--retries' },
      offline: UNSET,
      noPypi: { value: true, source: 'flag', origin: '--no-pypi' },
      warnings: [],
    },
  },
  {
    name: '.env only, with a named .env path',
    input: {
      dotenvPath: '/work/project/.env',
      dotenv: { DIB_PYPI_MIRROR_URL: 'file:///tmp/pypi', DIB_NO_PYPI_PIP: 'yes', DIB_PIP_RETRIES: '2' },
    },
    expected: {
      indexUrl: dot('file:///tmp/pypi', 'DIB_PYPI_MIRROR_URL', '/work/project/.env'),
      extraIndexUrls: [],
      trustedHosts: [],
      retries: { value: 2, source: 'dotenv', origin: '.env file /work/project/.env: DIB_PIP_RETRIES' },
      offline: UNSET,
      noPypi: { value: true, source: 'dotenv', origin: '.env file /work/project/.env: DIB_NO_PYPI_PIP' },
      warnings: [],
    },
  },
];

for (const row of WHOLE_PLANS) {
  test(`buildPlan whole plan: ${row.name}`, () => {
    assert.deepEqual(plan(row.input), row.expected);
  });
}

// ---------------------------------------------------------------------------------------------
// Which URLs, in which order, from which source; and the warnings that come with them.

const INDEX_ROWS: { name: string; input: Input; indexes: IndexUrl[]; warnings: string[] }[] = [
  {
    name: 'flags beat env and .env as a whole',
    input: {
      flags: { mirrorUrls: ['http://flag/simple'] },
      env: { DIB_PYPI_MIRROR_URL: 'http://env/simple', DIB_PYPI_MIRROR_URL_1: 'http://env1/simple' },
      dotenv: { DIB_PYPI_MIRROR_URL: 'http://dot/simple' },
    },
    indexes: [flag('http://flag/simple', '--mirror-url'), PUBLIC],
    warnings: [],
  },
  {
    name: 'several flags keep their order and are numbered',
    input: { flags: { mirrorUrls: ['http://b/simple', 'http://a/simple', 'file:///c'] } },
    indexes: [flag('http://b/simple', '--mirror-url #1'), flag('http://a/simple', '--mirror-url #2'), flag('file:///c', '--mirror-url #3'), PUBLIC],
    warnings: [],
  },
  {
    name: 'an empty flag list falls through to env',
    input: { flags: { mirrorUrls: [] }, env: { DIB_PYPI_MIRROR_URL: 'http://env/simple' } },
    indexes: [env('http://env/simple', 'DIB_PYPI_MIRROR_URL'), PUBLIC],
    warnings: [],
  },
  {
    name: 'flags given: env names that would warn are not even looked at',
    input: { flags: { mirrorUrls: ['http://flag/'] }, env: { DIB_PYPI_MIRROR_URLX: 'x', PYPI_MIRROR_URL: 'http://old/' } },
    indexes: [flag('http://flag/', '--mirror-url'), PUBLIC],
    warnings: [],
  },
  {
    name: 'env beats .env as a whole: .env _1 is not mixed into env _2',
    input: {
      env: { DIB_PYPI_MIRROR_URL: 'http://env/simple', DIB_PYPI_MIRROR_URL_2: 'http://env2/simple' },
      dotenv: { DIB_PYPI_MIRROR_URL_1: 'http://dot1/simple', DIB_PYPI_MIRROR_URL: 'http://dot/simple' },
    },
    indexes: [env('http://env/simple', 'DIB_PYPI_MIRROR_URL'), env('http://env2/simple', 'DIB_PYPI_MIRROR_URL_2'), PUBLIC],
    warnings: [],
  },
  {
    name: 'env beats .env: a bad .env URL is never parsed',
    input: { env: { DIB_PYPI_MIRROR_URL: 'http://env/' }, dotenv: { DIB_PYPI_MIRROR_URL: 'ftp://broken' } },
    indexes: [env('http://env/', 'DIB_PYPI_MIRROR_URL'), PUBLIC],
    warnings: [],
  },
  {
    name: '.env is used when env has no mirror URL',
    input: { env: { HOME: '/root' }, dotenv: { DIB_PYPI_MIRROR_URL_1: 'http://dot1/', DIB_PYPI_MIRROR_URL: 'http://dot/' } },
    indexes: [dot('http://dot/', 'DIB_PYPI_MIRROR_URL'), dot('http://dot1/', 'DIB_PYPI_MIRROR_URL_1'), PUBLIC],
    warnings: [],
  },
  {
    name: '.env is used when env has only empty mirror URLs',
    input: { env: { DIB_PYPI_MIRROR_URL: '', DIB_PYPI_MIRROR_URL_1: '   ' }, dotenv: { DIB_PYPI_MIRROR_URL: 'http://dot/' } },
    indexes: [dot('http://dot/', 'DIB_PYPI_MIRROR_URL'), PUBLIC],
    warnings: [],
  },
  {
    name: '.env path is named in origins',
    input: { dotenvPath: '/srv/build/.env', dotenv: { DIB_PYPI_MIRROR_URL_4: 'http://dot/' } },
    indexes: [dot('http://dot/', 'DIB_PYPI_MIRROR_URL_4', '/srv/build/.env'), PUBLIC],
    warnings: [],
  },
  {
    name: '_2 sorts before _10, bare name first, gaps allowed',
    input: {
      env: {
        DIB_PYPI_MIRROR_URL_10: 'http://ten/',
        DIB_PYPI_MIRROR_URL_2: 'http://two/',
        DIB_PYPI_MIRROR_URL_7: 'http://seven/',
        DIB_PYPI_MIRROR_URL: 'http://bare/',
        DIB_PYPI_MIRROR_URL_1: 'http://one/',
      },
    },
    indexes: [
      env('http://bare/', 'DIB_PYPI_MIRROR_URL'),
      env('http://one/', 'DIB_PYPI_MIRROR_URL_1'),
      env('http://two/', 'DIB_PYPI_MIRROR_URL_2'),
      env('http://seven/', 'DIB_PYPI_MIRROR_URL_7'),
      env('http://ten/', 'DIB_PYPI_MIRROR_URL_10'),
      PUBLIC,
    ],
    warnings: [],
  },
  {
    name: 'without the bare name, the lowest number is the index-url',
    input: { env: { DIB_PYPI_MIRROR_URL_5: 'http://five/', DIB_PYPI_MIRROR_URL_3: 'http://three/' } },
    indexes: [env('http://three/', 'DIB_PYPI_MIRROR_URL_3'), env('http://five/', 'DIB_PYPI_MIRROR_URL_5'), PUBLIC],
    warnings: [],
  },
  {
    name: 'bare name sorts before _0',
    input: { env: { DIB_PYPI_MIRROR_URL_0: 'http://zero/', DIB_PYPI_MIRROR_URL: 'http://bare/' } },
    indexes: [env('http://bare/', 'DIB_PYPI_MIRROR_URL'), env('http://zero/', 'DIB_PYPI_MIRROR_URL_0'), PUBLIC],
    warnings: [],
  },
  {
    name: 'numbers beyond 2^53 sort exactly',
    input: {
      env: {
        DIB_PYPI_MIRROR_URL_99999999999999999999: 'http://huge/',
        DIB_PYPI_MIRROR_URL_9007199254740993: 'http://big/',
        DIB_PYPI_MIRROR_URL_9007199254740992: 'http://big-1/',
      },
    },
    indexes: [
      env('http://big-1/', 'DIB_PYPI_MIRROR_URL_9007199254740992'),
      env('http://big/', 'DIB_PYPI_MIRROR_URL_9007199254740993'),
      env('http://huge/', 'DIB_PYPI_MIRROR_URL_99999999999999999999'),
      PUBLIC,
    ],
    warnings: [],
  },
  {
    name: '_02 and _2 share a number: ordered by name',
    input: { env: { DIB_PYPI_MIRROR_URL_2: 'http://two/', DIB_PYPI_MIRROR_URL_02: 'http://zero-two/', DIB_PYPI_MIRROR_URL_3: 'http://three/' } },
    indexes: [
      env('http://zero-two/', 'DIB_PYPI_MIRROR_URL_02'),
      env('http://two/', 'DIB_PYPI_MIRROR_URL_2'),
      env('http://three/', 'DIB_PYPI_MIRROR_URL_3'),
      PUBLIC,
    ],
    warnings: [],
  },
  {
    name: 'names that merely start with DIB_PYPI_MIRROR_URL are ignored with a warning each (sorted)',
    input: {
      env: {
        DIB_PYPI_MIRROR_URL_FOO: 'http://foo/',
        DIB_PYPI_MIRROR_URLX: 'http://x/',
        DIB_PYPI_MIRROR_URL_: 'http://underscore/',
        DIB_PYPI_MIRROR_URL_1_2: 'http://one-two/',
        'DIB_PYPI_MIRROR_URL_-1': 'http://minus/',
        DIB_PYPI_MIRROR_URL_1: 'http://one/',
      },
    },
    indexes: [env('http://one/', 'DIB_PYPI_MIRROR_URL_1'), PUBLIC],
    warnings: [
      ignoredWarning('DIB_PYPI_MIRROR_URLX'),
      ignoredWarning('DIB_PYPI_MIRROR_URL_'),
      ignoredWarning('DIB_PYPI_MIRROR_URL_-1'),
      ignoredWarning('DIB_PYPI_MIRROR_URL_1_2'),
      ignoredWarning('DIB_PYPI_MIRROR_URL_FOO'),
    ],
  },
  {
    name: 'an ignored name with a bad value does not fail the plan',
    input: { env: { DIB_PYPI_MIRROR_URL_FOO: 'not a url at all' } },
    indexes: [DEFAULT_MIRROR, PUBLIC],
    warnings: [ignoredWarning('DIB_PYPI_MIRROR_URL_FOO'), NO_URL_WARNING],
  },
  {
    name: 'lower-case and other-prefix names are not mirror variables and not warned about',
    input: { env: { dib_pypi_mirror_url: 'http://lower/', MY_DIB_PYPI_MIRROR_URL: 'http://mine/', DIB_PYPI_MIRROR: 'http://short/' } },
    indexes: [DEFAULT_MIRROR, PUBLIC],
    warnings: [NO_URL_WARNING],
  },
  {
    name: 'empty and blank values are skipped, not kept as index URLs',
    input: { env: { DIB_PYPI_MIRROR_URL: '', DIB_PYPI_MIRROR_URL_1: ' \t', DIB_PYPI_MIRROR_URL_2: 'http://two/', DIB_PYPI_MIRROR_URL_3: undefined } },
    indexes: [env('http://two/', 'DIB_PYPI_MIRROR_URL_2'), PUBLIC],
    warnings: [],
  },
  {
    name: 'only empty values: default mirror and the warning',
    input: { env: { DIB_PYPI_MIRROR_URL: '', DIB_PYPI_MIRROR_URL_1: '' } },
    indexes: [DEFAULT_MIRROR, PUBLIC],
    warnings: [NO_URL_WARNING],
  },
  {
    name: 'legacy PYPI_MIRROR_URL* accepted with one deprecation warning',
    input: { env: { PYPI_MIRROR_URL_10: 'http://old10/', PYPI_MIRROR_URL: 'http://old/', PYPI_MIRROR_URL_2: 'http://old2/' } },
    indexes: [env('http://old/', 'PYPI_MIRROR_URL'), env('http://old2/', 'PYPI_MIRROR_URL_2'), env('http://old10/', 'PYPI_MIRROR_URL_10'), PUBLIC],
    warnings: ['PYPI_MIRROR_URL* is deprecated: rename PYPI_MIRROR_URL, PYPI_MIRROR_URL_2, PYPI_MIRROR_URL_10 to DIB_PYPI_MIRROR_URL*'],
  },
  {
    name: 'legacy names that merely start with PYPI_MIRROR_URL are ignored too',
    input: { env: { PYPI_MIRROR_URLS: 'http://old/', PYPI_MIRROR_URL_1: 'http://old1/' } },
    indexes: [env('http://old1/', 'PYPI_MIRROR_URL_1'), PUBLIC],
    warnings: [ignoredWarning('PYPI_MIRROR_URLS'), 'PYPI_MIRROR_URL* is deprecated: rename PYPI_MIRROR_URL_1 to DIB_PYPI_MIRROR_URL*'],
  },
  {
    name: 'both families: DIB wins, the legacy names are listed in a warning and never parsed',
    input: { env: { DIB_PYPI_MIRROR_URL: 'http://new/', PYPI_MIRROR_URL: 'ftp://old/', PYPI_MIRROR_URL_1: 'http://old1/' } },
    indexes: [env('http://new/', 'DIB_PYPI_MIRROR_URL'), PUBLIC],
    warnings: ['both DIB_PYPI_MIRROR_URL* and deprecated PYPI_MIRROR_URL* are set: using DIB_PYPI_MIRROR_URL*, ignoring PYPI_MIRROR_URL, PYPI_MIRROR_URL_1'],
  },
  {
    name: 'DIB family only empty: the legacy family is used',
    input: { env: { DIB_PYPI_MIRROR_URL: '', PYPI_MIRROR_URL: 'http://old/' } },
    indexes: [env('http://old/', 'PYPI_MIRROR_URL'), PUBLIC],
    warnings: ['PYPI_MIRROR_URL* is deprecated: rename PYPI_MIRROR_URL to DIB_PYPI_MIRROR_URL*'],
  },
  {
    name: '.env warnings are labelled with the .env file',
    input: { dotenv: { PYPI_MIRROR_URL: 'http://old/', DIB_PYPI_MIRROR_URLX: 'x' } },
    indexes: [dot('http://old/', 'PYPI_MIRROR_URL'), PUBLIC],
    warnings: [
      ignoredWarning('DIB_PYPI_MIRROR_URLX', '.env file .env: '),
      '.env file .env: PYPI_MIRROR_URL* is deprecated: rename PYPI_MIRROR_URL to DIB_PYPI_MIRROR_URL*',
    ],
  },
  {
    name: 'env ignored names are warned even when .env supplies the URLs',
    input: { env: { DIB_PYPI_MIRROR_URL_FOO: 'x' }, dotenv: { DIB_PYPI_MIRROR_URL: 'http://dot/' } },
    indexes: [dot('http://dot/', 'DIB_PYPI_MIRROR_URL'), PUBLIC],
    warnings: [ignoredWarning('DIB_PYPI_MIRROR_URL_FOO')],
  },
  {
    name: 'both families in .env: DIB wins, labelled warning',
    input: { dotenv: { DIB_PYPI_MIRROR_URL_1: 'http://new/', PYPI_MIRROR_URL: 'http://old/' } },
    indexes: [dot('http://new/', 'DIB_PYPI_MIRROR_URL_1'), PUBLIC],
    warnings: ['.env file .env: both DIB_PYPI_MIRROR_URL* and deprecated PYPI_MIRROR_URL* are set: using DIB_PYPI_MIRROR_URL*, ignoring PYPI_MIRROR_URL'],
  },
  {
    name: 'DIB_OFFLINE drops the public index',
    input: { env: { DIB_PYPI_MIRROR_URL: 'http://m/', DIB_OFFLINE: '1' } },
    indexes: [env('http://m/', 'DIB_PYPI_MIRROR_URL')],
    warnings: [],
  },
  {
    name: 'DIB_NO_PYPI_PIP drops the public index',
    input: { env: { DIB_PYPI_MIRROR_URL: 'http://m/', DIB_NO_PYPI_PIP: '1' } },
    indexes: [env('http://m/', 'DIB_PYPI_MIRROR_URL')],
    warnings: [],
  },
  {
    name: '--offline drops the public index',
    input: { flags: { offline: true }, env: { DIB_PYPI_MIRROR_URL: 'http://m/' } },
    indexes: [env('http://m/', 'DIB_PYPI_MIRROR_URL')],
    warnings: [],
  },
  {
    name: '--no-pypi drops the public index',
    input: { flags: { noPypi: true }, env: { DIB_PYPI_MIRROR_URL: 'http://m/' } },
    indexes: [env('http://m/', 'DIB_PYPI_MIRROR_URL')],
    warnings: [],
  },
  {
    name: 'offline with no URL: only the default mirror',
    input: { flags: { offline: true } },
    indexes: [DEFAULT_MIRROR],
    warnings: [NO_URL_WARNING],
  },
  {
    name: 'DIB_OFFLINE=0 keeps the public index, appended last',
    input: { env: { DIB_PYPI_MIRROR_URL: 'http://m/', DIB_PYPI_MIRROR_URL_1: 'http://n/', DIB_OFFLINE: '0' } },
    indexes: [env('http://m/', 'DIB_PYPI_MIRROR_URL'), env('http://n/', 'DIB_PYPI_MIRROR_URL_1'), PUBLIC],
    warnings: [],
  },
  {
    name: 'the public index is appended even when a mirror already names it',
    input: { env: { DIB_PYPI_MIRROR_URL: 'https://pypi.org/simple' } },
    indexes: [env('https://pypi.org/simple', 'DIB_PYPI_MIRROR_URL'), PUBLIC],
    warnings: [],
  },
];

for (const row of INDEX_ROWS) {
  test(`buildPlan indexes: ${row.name}`, () => {
    const result = plan(row.input);
    assert.deepEqual(indexesOf(result), row.indexes);
    assert.deepEqual(result.warnings, row.warnings);
  });
}

// ---------------------------------------------------------------------------------------------
// Booleans: per variable, flag > env > .env; 0/false/no/off count as unset.

const BOOLEAN_ROWS: { name: string; input: Input; offline: Sourced<boolean>; noPypi: Sourced<boolean> }[] = [
  { name: 'nothing set', input: {}, offline: UNSET, noPypi: UNSET },
  { name: '--offline', input: { flags: { offline: true } }, offline: { value: true, source: 'flag', origin: '--offline' }, noPypi: UNSET },
  { name: '--no-pypi', input: { flags: { noPypi: true } }, offline: UNSET, noPypi: { value: true, source: 'flag', origin: '--no-pypi' } },
  {
    name: 'flag false means "not given": env decides',
    input: { flags: { offline: false }, env: { DIB_OFFLINE: '1' } },
    offline: { value: true, source: 'env', origin: 'DIB_OFFLINE' },
    noPypi: UNSET,
  },
  {
    name: 'flag beats env 0',
    input: { flags: { offline: true }, env: { DIB_OFFLINE: '0' } },
    offline: { value: true, source: 'flag', origin: '--offline' },
    noPypi: UNSET,
  },
  { name: 'env DIB_OFFLINE=1', input: { env: { DIB_OFFLINE: '1' } }, offline: { value: true, source: 'env', origin: 'DIB_OFFLINE' }, noPypi: UNSET },
  {
    name: 'env DIB_NO_PYPI_PIP=1',
    input: { env: { DIB_NO_PYPI_PIP: '1' } },
    offline: UNSET,
    noPypi: { value: true, source: 'env', origin: 'DIB_NO_PYPI_PIP' },
  },
  {
    name: '.env DIB_OFFLINE=1',
    input: { dotenv: { DIB_OFFLINE: '1' } },
    offline: { value: true, source: 'dotenv', origin: '.env file .env: DIB_OFFLINE' },
    noPypi: UNSET,
  },
  {
    name: '.env DIB_NO_PYPI_PIP=true',
    input: { dotenv: { DIB_NO_PYPI_PIP: 'true' } },
    offline: UNSET,
    noPypi: { value: true, source: 'dotenv', origin: '.env file .env: DIB_NO_PYPI_PIP' },
  },
  {
    name: 'env beats .env per variable (env 0, .env 1)',
    input: { env: { DIB_OFFLINE: '0' }, dotenv: { DIB_OFFLINE: '1' } },
    offline: { value: false, source: 'env', origin: 'DIB_OFFLINE' },
    noPypi: UNSET,
  },
  {
    name: 'each boolean from its own source',
    input: { flags: { noPypi: true }, env: { DIB_OFFLINE: 'yes', DIB_NO_PYPI_PIP: '0' }, dotenv: { DIB_OFFLINE: '0', DIB_NO_PYPI_PIP: '0' } },
    offline: { value: true, source: 'env', origin: 'DIB_OFFLINE' },
    noPypi: { value: true, source: 'flag', origin: '--no-pypi' },
  },
  {
    name: 'empty env falls through to .env',
    input: { env: { DIB_OFFLINE: '' }, dotenv: { DIB_OFFLINE: '1' } },
    offline: { value: true, source: 'dotenv', origin: '.env file .env: DIB_OFFLINE' },
    noPypi: UNSET,
  },
  {
    name: 'offline from .env, no-pypi from env',
    input: { env: { DIB_NO_PYPI_PIP: '1' }, dotenv: { DIB_OFFLINE: '1' } },
    offline: { value: true, source: 'dotenv', origin: '.env file .env: DIB_OFFLINE' },
    noPypi: { value: true, source: 'env', origin: 'DIB_NO_PYPI_PIP' },
  },
];

for (const row of BOOLEAN_ROWS) {
  test(`buildPlan booleans: ${row.name}`, () => {
    const result = plan(row.input);
    assert.deepEqual(result.offline, row.offline);
    assert.deepEqual(result.noPypi, row.noPypi);
    const hasPublic = result.extraIndexUrls.some((i) => i.url === 'https://pypi.org/simple');
    assert.equal(hasPublic, !row.offline.value && !row.noPypi.value);
  });
}

const WORDS: { raw: string; value: boolean }[] = [
  { raw: '', value: false },
  { raw: '0', value: false },
  { raw: 'false', value: false },
  { raw: 'FALSE', value: false },
  { raw: 'no', value: false },
  { raw: 'No', value: false },
  { raw: 'off', value: false },
  { raw: ' Off ', value: false },
  { raw: 'n', value: false },
  { raw: '1', value: true },
  { raw: 'true', value: true },
  { raw: 'yes', value: true },
  { raw: 'on', value: true },
  { raw: 'y', value: true },
  { raw: '00', value: true },
  { raw: 'anything', value: true },
];

for (const variable of ['DIB_OFFLINE', 'DIB_NO_PYPI_PIP'] as const) {
  for (const { raw, value } of WORDS) {
    test(`buildPlan booleans: env ${variable}=${JSON.stringify(raw)} -> ${value}`, () => {
      const result = plan({ env: { DIB_PYPI_MIRROR_URL: 'http://m/', [variable]: raw } });
      const picked = variable === 'DIB_OFFLINE' ? result.offline : result.noPypi;
      // an empty variable counts as unset (and falls through to .env), as for URLs and retries
      const expected = raw === '' ? { value: false, source: 'default', origin: 'default' } : { value, source: 'env', origin: variable };
      assert.deepEqual(picked, expected);
      assert.deepEqual(
        result.extraIndexUrls.map((i) => i.url),
        value ? [] : ['https://pypi.org/simple'],
      );
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Retries: per variable, flag > env > .env; a non-negative integer up to 1000.

const RETRY_ROWS: { name: string; input: Input; retries: Sourced<number> | undefined }[] = [
  { name: 'unset', input: {}, retries: undefined },
  { name: 'flag', input: { flags: { retries: '3' } }, retries: { value: 3, source: 'flag', origin: '--retries' } },
  { name: 'env', input: { env: { DIB_PIP_RETRIES: '5' } }, retries: { value: 5, source: 'env', origin: 'DIB_PIP_RETRIES' } },
  { name: '.env', input: { dotenv: { DIB_PIP_RETRIES: '7' } }, retries: { value: 7, source: 'dotenv', origin: '.env file .env: DIB_PIP_RETRIES' } },
  {
    name: 'flag beats env beats .env',
    input: { flags: { retries: '1' }, env: { DIB_PIP_RETRIES: '2' }, dotenv: { DIB_PIP_RETRIES: '3' } },
    retries: { value: 1, source: 'flag', origin: '--retries' },
  },
  {
    name: 'env beats .env',
    input: { env: { DIB_PIP_RETRIES: '2' }, dotenv: { DIB_PIP_RETRIES: '3' } },
    retries: { value: 2, source: 'env', origin: 'DIB_PIP_RETRIES' },
  },
  {
    name: 'flag beats a bad env value (never parsed)',
    input: { flags: { retries: '4' }, env: { DIB_PIP_RETRIES: 'abc' } },
    retries: { value: 4, source: 'flag', origin: '--retries' },
  },
  {
    name: 'empty env falls through to .env',
    input: { env: { DIB_PIP_RETRIES: '' }, dotenv: { DIB_PIP_RETRIES: '4' } },
    retries: { value: 4, source: 'dotenv', origin: '.env file .env: DIB_PIP_RETRIES' },
  },
  { name: 'empty env and .env: unset', input: { env: { DIB_PIP_RETRIES: '' }, dotenv: { DIB_PIP_RETRIES: '' } }, retries: undefined },
  { name: '0 is a value', input: { env: { DIB_PIP_RETRIES: '0' } }, retries: { value: 0, source: 'env', origin: 'DIB_PIP_RETRIES' } },
  { name: 'surrounding blanks trimmed', input: { env: { DIB_PIP_RETRIES: ' 5 ' } }, retries: { value: 5, source: 'env', origin: 'DIB_PIP_RETRIES' } },
  { name: 'leading zeros', input: { env: { DIB_PIP_RETRIES: '007' } }, retries: { value: 7, source: 'env', origin: 'DIB_PIP_RETRIES' } },
  { name: '1000 is the largest', input: { flags: { retries: '1000' } }, retries: { value: 1000, source: 'flag', origin: '--retries' } },
  {
    name: '.env path named',
    input: { dotenvPath: '/x/.env', dotenv: { DIB_PIP_RETRIES: '9' } },
    retries: { value: 9, source: 'dotenv', origin: '.env file /x/.env: DIB_PIP_RETRIES' },
  },
];

for (const row of RETRY_ROWS) {
  test(`buildPlan retries: ${row.name}`, () => {
    assert.deepEqual(plan(row.input).retries, row.retries);
  });
}

const BAD_RETRIES: { raw: string; detail: string }[] = [
  { raw: '-1', detail: 'not a non-negative integer: "-1"' },
  { raw: '3.5', detail: 'not a non-negative integer: "3.5"' },
  { raw: 'abc', detail: 'not a non-negative integer: "abc"' },
  { raw: '+1', detail: 'not a non-negative integer: "+1"' },
  { raw: '1e3', detail: 'not a non-negative integer: "1e3"' },
  { raw: '0x10', detail: 'not a non-negative integer: "0x10"' },
  { raw: '1 2', detail: 'not a non-negative integer: "1 2"' },
  { raw: '٣', detail: 'not a non-negative integer: "٣"' },
  { raw: ' ', detail: 'not a non-negative integer: " "' },
  { raw: '1001', detail: 'too large (at most 1000): 1001' },
  { raw: ' 1001 ', detail: 'too large (at most 1000): 1001' },
  { raw: '99999999999999999999', detail: 'too large (at most 1000): 99999999999999999999' },
];

for (const { raw, detail } of BAD_RETRIES) {
  test(`buildPlan retries: --retries ${JSON.stringify(raw)} is refused`, () => {
    assertUsageError(() => plan({ flags: { retries: raw } }), `--retries: ${detail}`, '--retries');
  });
  test(`buildPlan retries: env DIB_PIP_RETRIES=${JSON.stringify(raw)} is refused`, () => {
    assertUsageError(() => plan({ env: { DIB_PIP_RETRIES: raw } }), `DIB_PIP_RETRIES: ${detail}`, 'DIB_PIP_RETRIES');
  });
  test(`buildPlan retries: .env DIB_PIP_RETRIES=${JSON.stringify(raw)} is refused`, () => {
    const origin = '.env file /p/.env: DIB_PIP_RETRIES';
    assertUsageError(() => plan({ dotenvPath: '/p/.env', dotenv: { DIB_PIP_RETRIES: raw } }), `${origin}: ${detail}`, origin);
  });
}

test('buildPlan retries: an empty --retries flag is refused (flags are never "unset" by being empty)', () => {
  assertUsageError(() => plan({ flags: { retries: '' } }), '--retries: not a non-negative integer: ""', '--retries');
});

// ---------------------------------------------------------------------------------------------
// trusted-host: every plain-http index, host[:port], deduplicated, never None, never credentials.

const TRUSTED_ROWS: { name: string; urls: string[]; trusted: string[] }[] = [
  { name: 'file:// needs none (upstream wrote None)', urls: ['file:///tmp/pypi'], trusted: [] },
  { name: 'file://localhost needs none', urls: ['file://localhost/srv/pypi'], trusted: [] },
  { name: 'https needs none', urls: ['https://mirror.example/simple'], trusted: [] },
  { name: 'https with a port needs none', urls: ['https://mirror.example:8443/simple'], trusted: [] },
  { name: 'plain http: the host', urls: ['http://mirror.local/simple'], trusted: ['mirror.local'] },
  { name: 'plain http with a port: host:port kept', urls: ['http://mirror.local:8080/simple'], trusted: ['mirror.local:8080'] },
  { name: 'credentials are never part of the host', urls: ['http://user:s3cret@mirror.local:8080/simple'], trusted: ['mirror.local:8080'] },
  { name: 'token-only credentials too', urls: ['http://tok3n@mirror.local/simple'], trusted: ['mirror.local'] },
  { name: 'same host:port twice: once', urls: ['http://m:8080/a/', 'http://u:p@m:8080/b/'], trusted: ['m:8080'] },
  { name: 'same host, other port: both', urls: ['http://m/', 'http://m:8080/'], trusted: ['m', 'm:8080'] },
  { name: 'every http index, not only the first', urls: ['https://a/', 'http://b/', 'file:///c', 'http://d:1/', 'http://b/other/'], trusted: ['b', 'd:1'] },
  { name: 'IPv4 loopback with port', urls: ['http://127.0.0.1:3141/root/pypi/+simple/'], trusted: ['127.0.0.1:3141'] },
  { name: 'IPv6 loopback with port', urls: ['http://[::1]:8080/simple'], trusted: ['::1'] },
  { name: 'host is lower-cased', urls: ['HTTP://Mirror.Local/simple'], trusted: ['mirror.local'] },
  { name: 'default port 80 is dropped (host alone matches any port in pip)', urls: ['http://m:80/simple'], trusted: ['m'] },
];

for (const row of TRUSTED_ROWS) {
  test(`buildPlan trusted hosts: ${row.name}`, () => {
    const result = plan({ flags: { mirrorUrls: row.urls } });
    assert.deepEqual(result.trustedHosts, row.trusted);
    for (const host of result.trustedHosts) {
      assert.notEqual(host, 'None');
      assert.ok(!host.includes('@'), `credentials in trusted host ${host}`);
    }
  });
}

test('buildPlan trusted hosts: the appended public index (https) adds none', () => {
  assert.deepEqual(plan({ env: { DIB_PYPI_MIRROR_URL: 'file:///tmp/pypi' } }).trustedHosts, []);
});

// ---------------------------------------------------------------------------------------------
// Bad URLs: UsageError naming the variable; never the password.

const V = 'DIB_PYPI_MIRROR_URL_3';
const SCHEME_HINT = 'use http://, https:// or file://';

const BAD_URLS: { name: string; raw: string; detail: string; password?: string }[] = [
  { name: 'ftp scheme', raw: 'ftp://mirror.example/simple', detail: `unsupported scheme "ftp:" in "ftp://mirror.example/simple": ${SCHEME_HINT}` },
  { name: 'misspelt scheme', raw: 'htp:/x', detail: `unsupported scheme "htp:" in "htp:/x": ${SCHEME_HINT}` },
  { name: 'git+https scheme', raw: 'git+https://h/simple', detail: `unsupported scheme "git+https:" in "git+https://h/simple": ${SCHEME_HINT}` },
  { name: 'no scheme', raw: 'mirror.example/simple', detail: 'not a URL: "mirror.example/simple"' },
  { name: 'absolute path', raw: '/tmp/pypi', detail: 'not a URL: "/tmp/pypi"' },
  {
    name: 'space inside',
    raw: 'http://mirror.example/my simple',
    detail: 'contains whitespace at character 25: "http://mirror.example/my simple" (give one URL per variable or flag)',
  },
  {
    name: 'two URLs in one variable',
    raw: 'http://a/ http://b/',
    detail: 'contains whitespace at character 10: "http://a/ http://b/" (give one URL per variable or flag)',
  },
  { name: 'trailing newline', raw: 'http://a/\n', detail: 'contains whitespace at character 10: "http://a/\\n" (give one URL per variable or flag)' },
  { name: 'leading blank', raw: ' http://a/', detail: 'contains whitespace at character 1: " http://a/" (give one URL per variable or flag)' },
  { name: 'no host at all', raw: 'http://', detail: 'not a URL: "http://"' },
  { name: 'no host, credentials only', raw: 'http://u:s3cret@/simple', detail: 'not a URL: "http://u:***@/simple"', password: 's3cret' },
  { name: 'bad port', raw: 'http://h:99999/', detail: 'not a URL: "http://h:99999/"' },
  { name: 'file:// with a host', raw: 'file://host/x', detail: 'a file:// URL must not name a host: "file://host/x" (write file:///path)' },
  { name: 'fragment', raw: 'http://h/simple#frag', detail: 'a fragment (#...) has no meaning in an index URL: "http://h/simple#frag"' },
  { name: 'empty fragment', raw: 'http://h/simple#', detail: 'a fragment (#...) has no meaning in an index URL: "http://h/simple#"' },
  { name: '= in the query', raw: 'http://h/simple?a=b', detail: `'=' and ';' in the query cannot be written to pip.conf: "http://h/simple?a=b"` },
  { name: '; in the query', raw: 'http://h/simple?a;b', detail: `'=' and ';' in the query cannot be written to pip.conf: "http://h/simple?a;b"` },
  { name: 'ftp with password', raw: 'ftp://user:s3cret@h/', detail: `unsupported scheme "ftp:" in "ftp://user:***@h/": ${SCHEME_HINT}`, password: 's3cret' },
  { name: 'file:// host with password', raw: 'file://user:s3cret@host/x', detail: 'not a URL: "file://user:***@host/x"', password: 's3cret' },
  {
    name: 'whitespace with password',
    raw: 'http://user:s3cret@h/my simple',
    detail: 'contains whitespace at character 24 (give one URL per variable or flag)',
    password: 's3cret',
  },
  {
    name: 'fragment with password',
    raw: 'http://user:s3cret@h/#f',
    detail: 'a fragment (#...) has no meaning in an index URL: "http://user:***@h/#f"',
    password: 's3cret',
  },
  {
    name: 'query with password',
    raw: 'http://user:s3cret@h/?a=b',
    detail: `'=' and ';' in the query cannot be written to pip.conf: "http://user:***@h/?a=b"`,
    password: 's3cret',
  },
  { name: 'bad port with token', raw: 'https://t0ken@h:x/', detail: 'not a URL: "https://***@h:x/"', password: 't0ken' },
];

for (const row of BAD_URLS) {
  test(`buildPlan bad URL: ${row.name} (${JSON.stringify(row.raw)})`, () => {
    assertUsageError(() => plan({ env: { [V]: row.raw } }), `${V}: ${row.detail}`, V);
    if (row.password !== undefined) {
      assert.throws(
        () => plan({ env: { [V]: row.raw } }),
        (e: Error) => !e.message.includes(row.password as string),
      );
    }
  });
}

test('buildPlan bad URL: from a flag, the flag is named', () => {
  assertUsageError(
    () => plan({ flags: { mirrorUrls: ['ftp://x/'] } }),
    `--mirror-url: unsupported scheme "ftp:" in "ftp://x/": ${SCHEME_HINT}`,
    '--mirror-url',
  );
});

test('buildPlan bad URL: the second of several flags is named by number', () => {
  assertUsageError(() => plan({ flags: { mirrorUrls: ['http://ok/', 'x'] } }), '--mirror-url #2: not a URL: "x"', '--mirror-url #2');
});

test('buildPlan bad URL: from .env, the file and the variable are named', () => {
  const origin = '.env file /srv/.env: DIB_PYPI_MIRROR_URL';
  assertUsageError(() => plan({ dotenvPath: '/srv/.env', dotenv: { DIB_PYPI_MIRROR_URL: 'x' } }), `${origin}: not a URL: "x"`, origin);
});

test('buildPlan bad URL: a legacy variable is named', () => {
  assertUsageError(() => plan({ env: { PYPI_MIRROR_URL_1: 'x' } }), 'PYPI_MIRROR_URL_1: not a URL: "x"', 'PYPI_MIRROR_URL_1');
});

test('buildPlan bad URL: the first bad one in pip order is reported (_2 before _10)', () => {
  assertUsageError(
    () => plan({ env: { DIB_PYPI_MIRROR_URL_10: 'y', DIB_PYPI_MIRROR_URL_2: 'x' } }),
    'DIB_PYPI_MIRROR_URL_2: not a URL: "x"',
    'DIB_PYPI_MIRROR_URL_2',
  );
});

// Written as pip would read them, these have no host: pip (urllib.parse) sees an empty netloc for
// `http:///simple` and `http:/h/simple`, although WHATWG URL repairs them to http://simple/ and http://h/simple.
const HOSTLESS: { name: string; raw: string; password?: string }[] = [
  { name: 'three slashes', raw: 'http:///simple' },
  { name: 'one slash', raw: 'http:/mirror.local/simple' },
  { name: 'no slash', raw: 'http:mirror.local/simple' },
  { name: 'one slash, with a password (which the plan would then print unredacted)', raw: 'http:/user:s3cret@mirror.local/simple', password: 's3cret' },
];

for (const row of HOSTLESS) {
  test(`buildPlan bad URL: no host as pip reads it, ${row.name} (${JSON.stringify(row.raw)})`, () => {
    assert.throws(
      () => plan({ env: { [V]: row.raw } }),
      (error: unknown) => {
        assert.ok(error instanceof UsageError, `expected UsageError, got ${String(error)}`);
        assert.equal(error.exitCode, 2);
        assert.equal(error.source, V);
        assert.ok(error.message.startsWith(`${V}: `), error.message);
        if (row.password !== undefined) assert.ok(!error.message.includes(row.password), error.message);
        return true;
      },
    );
  });
}

test('buildPlan bad URL: a password containing a blank is not echoed in the whitespace error', () => {
  assert.throws(
    () => plan({ env: { [V]: 'http://user:pass word@mirror.local/simple' } }),
    (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.equal(error.exitCode, 2);
      assert.ok(error.message.startsWith(`${V}: contains whitespace`), error.message);
      assert.ok(!error.message.includes('pass word'), error.message);
      return true;
    },
  );
});

// ---------------------------------------------------------------------------------------------
// `=` and `;` outside the query are percent-encoded (ini would quote/escape them for configparser).

const ENCODED: { raw: string; url: string }[] = [
  { raw: 'http://user:pa=ss;word@h/simple', url: 'http://user:pa%3Dss%3Bword@h/simple' },
  { raw: 'http://us=er@h/simple', url: 'http://us%3Der@h/simple' },
  { raw: 'http://h/a=b;c/simple/', url: 'http://h/a%3Db%3Bc/simple/' },
  { raw: 'http://h/a=b?x', url: 'http://h/a%3Db?x' },
  { raw: 'file:///srv/mirror;v=2', url: 'file:///srv/mirror%3Bv%3D2' },
  { raw: 'https://mirror.example/simple/', url: 'https://mirror.example/simple/' },
  { raw: 'https://mirror.example/simple', url: 'https://mirror.example/simple' },
  { raw: 'http://h/simple?token', url: 'http://h/simple?token' },
  { raw: 'http://h/a%3Db', url: 'http://h/a%3Db' },
];

for (const row of ENCODED) {
  test(`buildPlan URL text: ${JSON.stringify(row.raw)} -> ${JSON.stringify(row.url)}`, () => {
    const result = plan({ flags: { mirrorUrls: [row.raw], offline: true } });
    assert.equal(result.indexUrl.url, row.url);
  });
}

// ---------------------------------------------------------------------------------------------
// Competing PIP_* variables: a warning each, value redacted, in a fixed order.

const bypass = (assignment: string): string => `${assignment} is set: pip run with this environment reads it after pip.conf and may bypass the mirror`;

const COMPETING: { name: string; input: Input; warnings: string[] }[] = [
  ...['PIP_CONFIG_FILE', 'PIP_INDEX_URL', 'PIP_EXTRA_INDEX_URL', 'PIP_NO_INDEX', 'PIP_FIND_LINKS', 'PIP_TRUSTED_HOST', 'PIP_ISOLATED_MODE'].map((name) => ({
    name,
    input: { env: { DIB_PYPI_MIRROR_URL: 'http://m/', [name]: '1' } },
    warnings: [bypass(`${name}=1`)],
  })),
  {
    name: 'PIP_INDEX_URL with user:password is redacted',
    input: { env: { DIB_PYPI_MIRROR_URL: 'http://m/', PIP_INDEX_URL: 'https://user:s3cret@corp.example/simple' } },
    warnings: [bypass('PIP_INDEX_URL=https://user:***@corp.example/simple')],
  },
  {
    name: 'PIP_EXTRA_INDEX_URL with two URLs, token and user:password, both redacted',
    input: { env: { DIB_PYPI_MIRROR_URL: 'http://m/', PIP_EXTRA_INDEX_URL: 'https://t0ken@a.example/simple http://u:pw@b.example/simple' } },
    warnings: [bypass('PIP_EXTRA_INDEX_URL=https://***@a.example/simple http://u:***@b.example/simple')],
  },
  {
    name: 'several, in a fixed order whatever the env order',
    input: { env: { DIB_PYPI_MIRROR_URL: 'http://m/', PIP_TRUSTED_HOST: 'h', PIP_NO_INDEX: 'true', PIP_CONFIG_FILE: '/etc/other.conf' } },
    warnings: [bypass('PIP_CONFIG_FILE=/etc/other.conf'), bypass('PIP_NO_INDEX=true'), bypass('PIP_TRUSTED_HOST=h')],
  },
  { name: 'empty values are not warned about', input: { env: { DIB_PYPI_MIRROR_URL: 'http://m/', PIP_INDEX_URL: '' } }, warnings: [] },
  {
    name: 'other PIP_* variables are not warned about',
    input: { env: { DIB_PYPI_MIRROR_URL: 'http://m/', PIP_TIMEOUT: '60', PIP_NO_CACHE_DIR: '1' } },
    warnings: [],
  },
  {
    name: 'PIP_* in .env is not warned about (pip never sees .env)',
    input: { env: { DIB_PYPI_MIRROR_URL: 'http://m/' }, dotenv: { PIP_INDEX_URL: 'http://x/' } },
    warnings: [],
  },
  {
    name: 'mirror warnings come before PIP_* warnings',
    input: { env: { PIP_FIND_LINKS: '/wheels', DIB_PYPI_MIRROR_URLS: 'x' } },
    warnings: [ignoredWarning('DIB_PYPI_MIRROR_URLS'), NO_URL_WARNING, bypass('PIP_FIND_LINKS=/wheels')],
  },
];

for (const row of COMPETING) {
  test(`buildPlan competing PIP_*: ${row.name}`, () => {
    const result = plan(row.input);
    assert.deepEqual(result.warnings, row.warnings);
    for (const warning of result.warnings) assert.ok(!warning.includes('s3cret') && !warning.includes('t0ken') && !warning.includes(':pw@'), warning);
  });
}

test('buildPlan is pure: the same input gives equal plans and is not modified', () => {
  const input: PlanInput = {
    flags: { retries: '2' },
    env: { DIB_PYPI_MIRROR_URL_2: 'http://b/', DIB_PYPI_MIRROR_URL: 'http://a/', PIP_INDEX_URL: 'http://x/' },
    dotenv: { DIB_OFFLINE: '1' },
  };
  const copy = structuredClone(input);
  assert.deepEqual(buildPlan(input), buildPlan(input));
  assert.deepEqual(input, copy);
});
