// renderPipConf / renderPydistutilsCfg: golden bytes for every plan shape, and ini.parse gives the values back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import ini from 'ini';
import { buildPlan } from '../../../src/plan/build-plan.js';
import { renderPipConf, renderPydistutilsCfg } from '../../../src/inject/render-pip-conf.js';
import { InternalError } from '../../../src/errors.js';
import type { Plan, PlanFlags } from '../../../src/plan/types.js';

const HEADER = '# Written by dib-pypi for the image build; `dib-pypi restore` puts back what was here.\n';

interface Shape {
  name: string;
  flags?: PlanFlags;
  env?: Record<string, string>;
  pipConf: string;
  pydistutils: string;
  /** What ini.parse reads back from pip.conf's [global]. */
  global: Record<string, string>;
}

const SHAPES: Shape[] = [
  {
    name: 'nothing set: default file:// mirror and the public index',
    pipConf: `${HEADER}[global]\nindex-url = file:///tmp/pypi\nextra-index-url = https://pypi.org/simple\n`,
    pydistutils: `${HEADER}[easy_install]\nindex_url = file:///tmp/pypi\n`,
    global: { 'index-url': 'file:///tmp/pypi', 'extra-index-url': 'https://pypi.org/simple' },
  },
  {
    name: 'single file:// URL, offline',
    env: { DIB_PYPI_MIRROR_URL: 'file:///tmp/pypi', DIB_OFFLINE: '1' },
    pipConf: `${HEADER}[global]\nindex-url = file:///tmp/pypi\n`,
    pydistutils: `${HEADER}[easy_install]\nindex_url = file:///tmp/pypi\n`,
    global: { 'index-url': 'file:///tmp/pypi' },
  },
  {
    name: 'http with port and credentials',
    env: { DIB_PYPI_MIRROR_URL: 'http://user:s3cret@mirror.local:8080/simple/' },
    pipConf:
      `${HEADER}[global]\nindex-url = http://user:s3cret@mirror.local:8080/simple/\n` +
      'extra-index-url = https://pypi.org/simple\ntrusted-host = mirror.local:8080\n',
    pydistutils: `${HEADER}[easy_install]\nindex_url = http://user:s3cret@mirror.local:8080/simple/\n`,
    global: {
      'index-url': 'http://user:s3cret@mirror.local:8080/simple/',
      'extra-index-url': 'https://pypi.org/simple',
      'trusted-host': 'mirror.local:8080',
    },
  },
  {
    name: 'several extras in numeric order, every http host trusted',
    env: {
      DIB_PYPI_MIRROR_URL: 'http://a.local:3141/simple/',
      DIB_PYPI_MIRROR_URL_1: 'https://b.example/simple/',
      DIB_PYPI_MIRROR_URL_2: 'file:///srv/c',
      DIB_PYPI_MIRROR_URL_10: 'http://d.local/simple/',
      DIB_PYPI_MIRROR_URL_11: 'http://a.local:3141/other/',
    },
    pipConf:
      `${HEADER}[global]\nindex-url = http://a.local:3141/simple/\n` +
      'extra-index-url = https://b.example/simple/ file:///srv/c http://d.local/simple/ http://a.local:3141/other/ https://pypi.org/simple\n' +
      'trusted-host = a.local:3141 d.local\n',
    pydistutils: `${HEADER}[easy_install]\nindex_url = http://a.local:3141/simple/\n`,
    global: {
      'index-url': 'http://a.local:3141/simple/',
      'extra-index-url': 'https://b.example/simple/ file:///srv/c http://d.local/simple/ http://a.local:3141/other/ https://pypi.org/simple',
      'trusted-host': 'a.local:3141 d.local',
    },
  },
  {
    name: 'offline (flag) with two mirrors: no public index',
    flags: { offline: true, mirrorUrls: ['http://m.local/simple/', 'https://n.example/simple/'] },
    pipConf: `${HEADER}[global]\nindex-url = http://m.local/simple/\nextra-index-url = https://n.example/simple/\ntrusted-host = m.local\n`,
    pydistutils: `${HEADER}[easy_install]\nindex_url = http://m.local/simple/\n`,
    global: { 'index-url': 'http://m.local/simple/', 'extra-index-url': 'https://n.example/simple/', 'trusted-host': 'm.local' },
  },
  {
    name: 'no-pypi with one http mirror',
    env: { DIB_PYPI_MIRROR_URL: 'http://127.0.0.1:8000/', DIB_NO_PYPI_PIP: '1' },
    pipConf: `${HEADER}[global]\nindex-url = http://127.0.0.1:8000/\ntrusted-host = 127.0.0.1:8000\n`,
    pydistutils: `${HEADER}[easy_install]\nindex_url = http://127.0.0.1:8000/\n`,
    global: { 'index-url': 'http://127.0.0.1:8000/', 'trusted-host': '127.0.0.1:8000' },
  },
  {
    name: 'retries 0',
    env: { DIB_PYPI_MIRROR_URL: 'file:///tmp/pypi', DIB_OFFLINE: '1', DIB_PIP_RETRIES: '0' },
    pipConf: `${HEADER}[global]\nindex-url = file:///tmp/pypi\nretries = 0\n`,
    pydistutils: `${HEADER}[easy_install]\nindex_url = file:///tmp/pypi\n`,
    global: { 'index-url': 'file:///tmp/pypi', retries: '0' },
  },
  {
    name: 'retries 5 with everything else',
    flags: { retries: '5' },
    env: { DIB_PYPI_MIRROR_URL: 'http://m.local/simple/', DIB_PYPI_MIRROR_URL_1: 'file:///srv/extra' },
    pipConf:
      `${HEADER}[global]\nindex-url = http://m.local/simple/\nextra-index-url = file:///srv/extra https://pypi.org/simple\n` +
      'trusted-host = m.local\nretries = 5\n',
    pydistutils: `${HEADER}[easy_install]\nindex_url = http://m.local/simple/\n`,
    global: { 'index-url': 'http://m.local/simple/', 'extra-index-url': 'file:///srv/extra https://pypi.org/simple', 'trusted-host': 'm.local', retries: '5' },
  },
  {
    name: '= and ; percent-encoded, query kept: ini writes them unquoted',
    env: { DIB_PYPI_MIRROR_URL: 'http://us=er:pa;ss@m.local/a=b;c/?x', DIB_OFFLINE: '1' },
    pipConf: `${HEADER}[global]\nindex-url = http://us%3Der:pa%3Bss@m.local/a%3Db%3Bc/?x\ntrusted-host = m.local\n`,
    pydistutils: `${HEADER}[easy_install]\nindex_url = http://us%3Der:pa%3Bss@m.local/a%3Db%3Bc/?x\n`,
    global: { 'index-url': 'http://us%3Der:pa%3Bss@m.local/a%3Db%3Bc/?x', 'trusted-host': 'm.local' },
  },
  {
    name: 'IPv6 mirror as an extra index: trusted bare (::1, pip brackets it)',
    env: { DIB_PYPI_MIRROR_URL: 'http://m.local/simple/', DIB_PYPI_MIRROR_URL_1: 'http://[::1]:8080/simple/', DIB_OFFLINE: '1' },
    pipConf: `${HEADER}[global]\nindex-url = http://m.local/simple/\nextra-index-url = http://[::1]:8080/simple/\ntrusted-host = m.local ::1\n`,
    pydistutils: `${HEADER}[easy_install]\nindex_url = http://m.local/simple/\n`,
    global: { 'index-url': 'http://m.local/simple/', 'extra-index-url': 'http://[::1]:8080/simple/', 'trusted-host': 'm.local ::1' },
  },
  {
    // `[::1]:8080` would start with `[`, which ini quotes (configparser would then read the quotes).
    name: 'IPv6 loopback mirror as the index: trusted-host never starts with [',
    env: { DIB_PYPI_MIRROR_URL: 'http://[::1]:8080/simple/', DIB_OFFLINE: '1' },
    pipConf: `${HEADER}[global]\nindex-url = http://[::1]:8080/simple/\ntrusted-host = ::1\n`,
    pydistutils: `${HEADER}[easy_install]\nindex_url = http://[::1]:8080/simple/\n`,
    global: { 'index-url': 'http://[::1]:8080/simple/', 'trusted-host': '::1' },
  },
];

function planOf(shape: Shape): Plan {
  return buildPlan({ flags: shape.flags ?? {}, env: shape.env ?? {}, dotenv: {} });
}

for (const shape of SHAPES) {
  test(`renderPipConf golden: ${shape.name}`, () => {
    assert.equal(renderPipConf(planOf(shape)), shape.pipConf);
  });
  test(`renderPydistutilsCfg golden: ${shape.name}`, () => {
    assert.equal(renderPydistutilsCfg(planOf(shape)), shape.pydistutils);
  });
  test(`renderPipConf ini.parse round trip: ${shape.name}`, () => {
    const parsed = ini.parse(renderPipConf(planOf(shape)));
    assert.deepEqual(JSON.parse(JSON.stringify(parsed)), { global: shape.global });
  });
  test(`renderPydistutilsCfg ini.parse round trip: ${shape.name}`, () => {
    const parsed = ini.parse(renderPydistutilsCfg(planOf(shape)));
    assert.deepEqual(JSON.parse(JSON.stringify(parsed)), { easy_install: { index_url: shape.global['index-url'] } });
  });
}

test('renderPipConf: same plan, same bytes (deterministic)', () => {
  const shape = SHAPES[3] as Shape;
  assert.equal(renderPipConf(planOf(shape)), renderPipConf(planOf(shape)));
});

// A Plan built by hand, not by buildPlan: the render check catches a value ini would alter.
const HAND_PLAN_BASE: Plan = {
  indexUrl: { url: 'file:///tmp/pypi', source: 'default', origin: 'default mirror' },
  extraIndexUrls: [],
  trustedHosts: [],
  retries: undefined,
  offline: { value: true, source: 'flag', origin: '--offline' },
  noPypi: { value: false, source: 'default', origin: 'default' },
  warnings: ['a warning is never written to a file'],
};

test('renderPipConf: warnings and sources are not written', () => {
  assert.equal(renderPipConf(HAND_PLAN_BASE), `${HEADER}[global]\nindex-url = file:///tmp/pypi\n`);
});

const ALTERED: { name: string; url: string }[] = [
  { name: '= (ini would quote the value)', url: 'http://h/a=b' },
  { name: '; (ini would escape it)', url: 'http://h/a;b' },
  { name: '# (ini would escape it)', url: 'http://h/a#b' },
  { name: 'leading quote and trailing quote (ini would quote it)', url: '"http://h/"' },
];

for (const row of ALTERED) {
  test(`renderPipConf: a value ini would alter is an InternalError, not a silent bad config: ${row.name}`, () => {
    const plan: Plan = { ...HAND_PLAN_BASE, indexUrl: { url: row.url, source: 'flag', origin: '--mirror-url' } };
    assert.throws(() => renderPipConf(plan), InternalError);
    assert.throws(() => renderPydistutilsCfg(plan), InternalError);
  });
}
