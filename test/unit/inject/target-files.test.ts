// normalizeHome and planTargetFiles: which files configure writes, for which home.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeHome, planTargetFiles, type TargetFile } from '../../../src/inject/target-files.js';
import { buildPlan } from '../../../src/plan/build-plan.js';
import { InputError, UsageError } from '../../../src/errors.js';
import { COMMANDS } from '../../../src/cli/commands.js';
import { withFlagNames } from '../../../src/cli/input-errors.js';

const HOMES: { home: string; out: string }[] = [
  { home: '/root', out: '/root' },
  { home: '/root/../../etc', out: '/etc' },
  { home: '/../../..', out: '/' },
  { home: '/', out: '/' },
  { home: '//root', out: '/root' },
  { home: '/home//alice/./x/..', out: '/home/alice' },
  { home: '/home/alice/..', out: '/home' },
  { home: '/home/zoë', out: '/home/zoë' },
  { home: '/home/a b', out: '/home/a b' },
  // A trailing slash must not survive: findCompetingConfig compares the home with `/home/<user>`.
  { home: '/home/alice/', out: '/home/alice' },
  { home: '/root/.', out: '/root' },
];

for (const { home, out } of HOMES) {
  test(`normalizeHome: ${JSON.stringify(home)} -> ${JSON.stringify(out)}`, () => {
    assert.equal(normalizeHome(home), out);
  });
}

const BAD_HOMES: { home: string; message: string }[] = [
  { home: 'root', message: '--home: must be an absolute path inside the root: "root"' },
  { home: '', message: '--home: must be an absolute path inside the root: ""' },
  { home: './root', message: '--home: must be an absolute path inside the root: "./root"' },
  { home: '../root', message: '--home: must be an absolute path inside the root: "../root"' },
  { home: '~', message: '--home: must be an absolute path inside the root: "~"' },
  { home: '~/x', message: '--home: must be an absolute path inside the root: "~/x"' },
  { home: ' /root', message: '--home: must be an absolute path inside the root: " /root"' },
  { home: '/ro\0ot', message: '--home: contains a NUL byte' },
];

for (const { home, message } of BAD_HOMES) {
  test(`normalizeHome: ${JSON.stringify(home)} is refused`, () => {
    assert.throws(
      () => normalizeHome(home),
      (error: unknown) => {
        assert.ok(error instanceof UsageError, `expected UsageError, got ${String(error)}`);
        assert.equal(error.exitCode, 2);
        // The inject layer names the input; configure's CLI names its flag.
        assert.ok(error instanceof InputError);
        assert.equal(error.input, 'home');
        assert.equal(error.message, message.replace(/^--home/, 'home'));
        for (const name of ['configure', 'chroot']) {
          const shown = withFlagNames(error, COMMANDS[name]?.inputs ?? {});
          assert.ok(shown instanceof UsageError);
          assert.equal(shown.source, '--home');
          assert.equal(shown.message, message);
        }
        return true;
      },
    );
  });
}

const HEADER = '# Written by dib-pypi for the image build; `dib-pypi restore` puts back what was here.\n';
const PLAN = buildPlan({ flags: {}, env: { DIB_PYPI_MIRROR_URL: 'http://m.local:8080/simple/', DIB_OFFLINE: '1' }, dotenv: {} });
const PIP_CONF = `${HEADER}[global]\nindex-url = http://m.local:8080/simple/\ntrusted-host = m.local:8080\n`;
const PYDISTUTILS = `${HEADER}[easy_install]\nindex_url = http://m.local:8080/simple/\n`;

const filesFor = (home: string): TargetFile[] => [
  { path: '/etc/xdg/pip/pip.conf', content: PIP_CONF, ownedBy: 'system', onlyIfPresent: true },
  { path: '/etc/pip.conf', content: PIP_CONF, ownedBy: 'system', onlyIfPresent: false },
  { path: `${home}/.pip/pip.conf`, content: PIP_CONF, ownedBy: 'home', onlyIfPresent: true },
  { path: `${home}/.config/pip/pip.conf`, content: PIP_CONF, ownedBy: 'home', onlyIfPresent: true },
  { path: `${home}/.pydistutils.cfg`, content: PYDISTUTILS, ownedBy: 'home', onlyIfPresent: false },
];

const TARGETS: { home: string; expected: TargetFile[] }[] = [
  { home: '/root', expected: filesFor('/root') },
  { home: '/home/alice', expected: filesFor('/home/alice') },
  { home: '/home/alice/../bob', expected: filesFor('/home/bob') },
  { home: '/root/../../etc', expected: filesFor('/etc') },
  { home: '/', expected: filesFor('') },
];

for (const { home, expected } of TARGETS) {
  test(`planTargetFiles: home ${JSON.stringify(home)}`, () => {
    assert.deepEqual(planTargetFiles(PLAN, home), expected);
  });
}

test('planTargetFiles: a relative home is refused before anything is planned', () => {
  assert.throws(() => planTargetFiles(PLAN, 'root'), UsageError);
});
