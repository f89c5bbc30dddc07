// The upstream `pypi` element's defects that the plan and render layers cover: one named row each,
// with the input that shows the defect upstream and the exact pip.conf we write instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPlan } from '../../../src/plan/build-plan.js';
import { renderPipConf } from '../../../src/inject/render-pip-conf.js';

const HEADER = '# Written by dib-pypi for the image build; `dib-pypi restore` puts back what was here.\n';

interface DefectRow {
  defect: string;
  env: Record<string, string>;
  pipConf: string;
  /** What upstream would have written, which must not appear. */
  absent: string[];
}

const ROWS: DefectRow[] = [
  {
    defect: 'upstream sorted names as strings: _10 before _2',
    env: { DIB_PYPI_MIRROR_URL_10: 'https://ten.example/simple', DIB_PYPI_MIRROR_URL_2: 'https://two.example/simple', DIB_OFFLINE: '1' },
    pipConf: `${HEADER}[global]\nindex-url = https://two.example/simple\nextra-index-url = https://ten.example/simple\n`,
    absent: ['\nindex-url = https://ten.example/simple'],
  },
  {
    defect: 'upstream counted any name that merely starts with DIB_PYPI_MIRROR_URL',
    env: {
      DIB_PYPI_MIRROR_URL: 'https://m.example/simple',
      DIB_PYPI_MIRROR_URLX: 'https://x.example/simple',
      DIB_PYPI_MIRROR_URL_FOO: 'https://foo.example/simple',
      DIB_OFFLINE: '1',
    },
    pipConf: `${HEADER}[global]\nindex-url = https://m.example/simple\n`,
    absent: ['x.example', 'foo.example'],
  },
  {
    defect: 'upstream kept empty values as index URLs',
    env: { DIB_PYPI_MIRROR_URL: '', DIB_PYPI_MIRROR_URL_1: 'https://one.example/simple', DIB_PYPI_MIRROR_URL_2: '', DIB_OFFLINE: '1' },
    pipConf: `${HEADER}[global]\nindex-url = https://one.example/simple\n`,
    absent: ['index-url = \n', 'extra-index-url'],
  },
  {
    defect: 'upstream wrote trusted-host = None for file:// URLs',
    env: { DIB_PYPI_MIRROR_URL: 'file:///tmp/pypi', DIB_NO_PYPI_PIP: '1' },
    pipConf: `${HEADER}[global]\nindex-url = file:///tmp/pypi\n`,
    absent: ['None', 'trusted-host'],
  },
  {
    defect: 'upstream trusted only the first URL host',
    env: { DIB_PYPI_MIRROR_URL: 'http://first.local/simple', DIB_PYPI_MIRROR_URL_1: 'http://second.local:8080/simple', DIB_OFFLINE: '1' },
    pipConf: `${HEADER}[global]\nindex-url = http://first.local/simple\nextra-index-url = http://second.local:8080/simple\ntrusted-host = first.local second.local:8080\n`,
    absent: ['trusted-host = first.local\n'],
  },
  {
    defect: 'upstream appended the retired https://pypi.python.org/simple',
    env: { DIB_PYPI_MIRROR_URL: 'file:///tmp/pypi' },
    pipConf: `${HEADER}[global]\nindex-url = file:///tmp/pypi\nextra-index-url = https://pypi.org/simple\n`,
    absent: ['pypi.python.org'],
  },
  {
    defect: 'upstream wrote log = /root/pip.log, which stayed in the image',
    env: { DIB_PYPI_MIRROR_URL: 'file:///tmp/pypi', DIB_PIP_RETRIES: '3', DIB_OFFLINE: '1' },
    pipConf: `${HEADER}[global]\nindex-url = file:///tmp/pypi\nretries = 3\n`,
    absent: ['log', 'pip.log'],
  },
];

for (const row of ROWS) {
  test(`upstream defect not copied: ${row.defect}`, () => {
    const text = renderPipConf(buildPlan({ flags: {}, env: row.env, dotenv: {} }));
    assert.equal(text, row.pipConf);
    for (const bad of row.absent) assert.ok(!text.includes(bad), `pip.conf contains ${JSON.stringify(bad)}`);
  });
}
