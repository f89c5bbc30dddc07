// Small pure helpers: parseMountPoints, touchDate, indexSettingsIn, the error classes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMountPoints } from '../../../src/fs/mounts.js';
import { touchDate } from '../../../src/fs/set-times.js';
import { indexSettingsIn } from '../../../src/inject/competing-config.js';
import { ConfinementError, DibPypiError, InternalError, StateError, UsageError } from '../../../src/errors.js';

// /proc/self/mountinfo: field 5 is the mount point, with space, tab, newline and backslash octal-escaped.
const MOUNTINFO: { name: string; text: string; points: string[] }[] = [
  { name: 'empty', text: '', points: [] },
  { name: 'only a newline', text: '\n', points: [] },
  {
    name: 'typical lines, trailing newline',
    text:
      '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n' +
      '98 22 8:1 /home/u/.cache/image-create/pypi/mirror /tmp/dib/mnt/tmp/pypi ro,relatime shared:1 - ext4 /dev/sda1 rw\n',
    points: ['/', '/tmp/dib/mnt/tmp/pypi'],
  },
  { name: 'space as \\040', text: '36 35 98:0 /mnt1 /mnt/a\\040b rw,noatime master:1 - ext3 /dev/root rw\n', points: ['/mnt/a b'] },
  { name: 'tab as \\011', text: '36 35 98:0 / /mnt/a\\011b rw - ext3 /dev/root rw', points: ['/mnt/a\tb'] },
  { name: 'newline as \\012', text: '36 35 98:0 / /mnt/a\\012b rw - ext3 /dev/root rw', points: ['/mnt/a\nb'] },
  { name: 'backslash as \\134', text: '36 35 98:0 / /mnt/a\\134b rw - ext3 /dev/root rw', points: ['/mnt/a\\b'] },
  { name: 'escape next to a digit', text: '36 35 98:0 / /mnt/a\\0401 rw - ext3 /dev/root rw', points: ['/mnt/a 1'] },
  { name: 'several escapes in one path', text: '1 1 0:1 / /a\\040b\\040c\\134 rw - t s rw', points: ['/a b c\\'] },
  { name: 'a backslash not followed by three octal digits is kept', text: '1 1 0:1 / /a\\9b\\04 rw - t s rw', points: ['/a\\9b\\04'] },
  { name: 'non-ASCII bytes pass through', text: '1 1 0:1 / /mnt/zoë rw - t s rw', points: ['/mnt/zoë'] },
  { name: 'short lines are skipped', text: 'garbage\n1 2 3 4\n1 1 0:1 / /ok rw - t s rw\n', points: ['/ok'] },
  {
    name: 'order kept, duplicates kept (stacked mounts)',
    text: '1 1 0:1 / /b rw - t s rw\n2 1 0:1 / /a rw - t s rw\n3 1 0:1 / /b rw - t s rw\n',
    points: ['/b', '/a', '/b'],
  },
];

for (const row of MOUNTINFO) {
  test(`parseMountPoints: ${row.name}`, () => {
    assert.deepEqual(parseMountPoints(row.text), row.points);
  });
}

// touch -d @SECONDS.NANOSECONDS, checked against GNU touch: `@-1.500000000` sets mtime -1.5 s.
const TOUCH_DATES: { ns: bigint; out: string }[] = [
  { ns: 1700000000000000005n, out: '@1700000000.000000005' },
  { ns: 1700000000123456789n, out: '@1700000000.123456789' },
  { ns: 1700000000000000000n, out: '@1700000000.000000000' },
  { ns: 0n, out: '@0.000000000' },
  { ns: 5n, out: '@0.000000005' },
  { ns: 999999999n, out: '@0.999999999' },
  { ns: 1000000000n, out: '@1.000000000' },
  { ns: 18446744073709551615n, out: '@18446744073.709551615' },
  // Files can carry times before 1970.
  { ns: -1500000000n, out: '@-1.500000000' },
  { ns: -1n, out: '@-0.000000001' },
];

for (const { ns, out } of TOUCH_DATES) {
  test(`touchDate: ${ns}n -> ${out}`, () => {
    assert.equal(touchDate(ns), out);
  });
}

const INDEX_SETTINGS: { name: string; text: string; found: string[] }[] = [
  { name: 'empty', text: '', found: [] },
  { name: 'index-url in [global]', text: '[global]\nindex-url = http://x/\n', found: ['[global] index-url'] },
  { name: 'index_url normalised to index-url', text: '[global]\nindex_url = http://x/\n', found: ['[global] index-url'] },
  { name: 'case normalised', text: '[global]\nIndex_URL = http://x/\n', found: ['[global] index-url'] },
  { name: 'leading -- stripped', text: '[install]\n--index-url = http://x/\n', found: ['[install] index-url'] },
  { name: 'no spaces around =', text: '[global]\nindex-url=http://x/\n', found: ['[global] index-url'] },
  {
    name: 'every index key, several sections, sorted',
    text: '[install]\nno_index = true\nfind-links = /wheels\n[global]\nextra_index_url = http://y/\nindex-url = http://x/\ntimeout = 60\n',
    found: ['[global] extra-index-url', '[global] index-url', '[install] find-links', '[install] no-index'],
  },
  { name: 'same key in two sections', text: '[download]\nindex-url = a\n[install]\nindex-url = b\n', found: ['[download] index-url', '[install] index-url'] },
  { name: 'section names keep their case', text: '[Install]\nindex-url = a\n', found: ['[Install] index-url'] },
  { name: 'other keys are not index settings', text: '[global]\ntrusted-host = h\nretries = 5\ntimeout = 1\ncert = /c\n', found: [] },
  { name: 'keys outside a section are ignored', text: 'index-url = http://x/\n', found: [] },
  { name: '# and ; comments are ignored', text: '[global]\n# index-url = a\n; extra-index-url = b\n', found: [] },
  {
    name: 'our own pip.conf',
    text: '# Written by dib-pypi\n[global]\nindex-url = file:///tmp/pypi\nextra-index-url = https://pypi.org/simple\ntrusted-host = h\nretries = 0\n',
    found: ['[global] extra-index-url', '[global] index-url'],
  },
  {
    name: '.pydistutils.cfg style',
    text: '[easy_install]\nindex_url = http://x/\nfind_links = http://y/\n',
    found: ['[easy_install] find-links', '[easy_install] index-url'],
  },
  { name: 'not ini at all', text: 'just some text\nwithout structure\n', found: [] },
];

for (const row of INDEX_SETTINGS) {
  test(`indexSettingsIn: ${row.name}`, () => {
    assert.deepEqual(indexSettingsIn(row.text), row.found);
  });
}

// ---------------------------------------------------------------------------------------------

test('errors: UsageError exits 2, prefixes the source, keeps the cause', () => {
  const cause = new Error('inner');
  const error = new UsageError('not a URL: "x"', 'DIB_PYPI_MIRROR_URL_3', { cause });
  assert.ok(error instanceof DibPypiError && error instanceof Error);
  assert.equal(error.exitCode, 2);
  assert.equal(error.name, 'UsageError');
  assert.equal(error.message, 'DIB_PYPI_MIRROR_URL_3: not a URL: "x"');
  assert.equal(error.source, 'DIB_PYPI_MIRROR_URL_3');
  assert.equal(error.cause, cause);
});

test('errors: UsageError without a source has the bare message', () => {
  const error = new UsageError('bad');
  assert.equal(error.message, 'bad');
  assert.equal(error.source, undefined);
});

const EXIT_CODES: { name: string; error: DibPypiError; exitCode: number; className: string }[] = [
  { name: 'DibPypiError', error: new DibPypiError('x'), exitCode: 1, className: 'DibPypiError' },
  { name: 'UsageError', error: new UsageError('x'), exitCode: 2, className: 'UsageError' },
  { name: 'StateError', error: new StateError('x'), exitCode: 1, className: 'StateError' },
  { name: 'ConfinementError', error: new ConfinementError('x', '/etc/pip.conf'), exitCode: 1, className: 'ConfinementError' },
  { name: 'InternalError', error: new InternalError('x'), exitCode: 1, className: 'InternalError' },
];

for (const row of EXIT_CODES) {
  test(`errors: ${row.name} exit code ${row.exitCode} and name`, () => {
    assert.equal(row.error.exitCode, row.exitCode);
    assert.equal(row.error.name, row.className);
    assert.ok(row.error instanceof DibPypiError);
  });
}

test('errors: ConfinementError keeps the path; InternalError asks to be reported', () => {
  assert.equal(new ConfinementError('refusing', '/etc/pip.conf').path, '/etc/pip.conf');
  assert.equal(new InternalError('impossible').message, 'internal error: impossible\nThis is a bug in dib-pypi; please report it with the command you ran.');
});
