// The removal record and the targets of mirror remove / yank (pure): which files a record removes, what adding
// and forgetting do, which names and versions are accepted.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InputError } from '../../../src/errors.js';
import { checkTarget } from '../../../src/mirror/store/mirror-target.js';
import { addRemoval, forgetRemoval, isRemovedFile, type RemovalRecord } from '../../../src/mirror/store/removal-record.js';
import { checkReason } from '../../../src/mirror/store/yank-files.js';
import { parseProjectSpec } from '../../../src/cli/commands/project-spec.js';

const record = (over: Partial<RemovalRecord>): RemovalRecord => ({ project: 'foo', whole: false, versions: [], files: [], ...over });

describe('isRemovedFile', () => {
  const rows: [string, RemovalRecord | undefined, string, boolean][] = [
    ['no record', undefined, 'foo-1.0-py3-none-any.whl', false],
    ['whole project', record({ whole: true }), 'foo-9.9.tar.gz', true],
    ['the file by name', record({ files: ['foo-1.0.tar.gz'] }), 'foo-1.0.tar.gz', true],
    ['another file of that version', record({ files: ['foo-1.0.tar.gz'] }), 'foo-1.0-py3-none-any.whl', false],
    ['a version: every file of it', record({ versions: ['1.0'] }), 'foo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl', true],
    ['PEP 440 equal versions', record({ versions: ['1.0'] }), 'foo-1.0.0.tar.gz', true],
    ['another version', record({ versions: ['1.0'] }), 'foo-1.0.1.tar.gz', false],
    ['not a distribution name', record({ versions: ['1.0'] }), 'README', false],
  ];
  for (const [name, given, file, expected] of rows) test(name, () => assert.equal(isRemovedFile(given, file), expected));
});

describe('addRemoval / forgetRemoval', () => {
  test('adding a file, a version, the project', () => {
    const one = addRemoval(undefined, { project: 'foo', file: 'foo-1.0.tar.gz' });
    assert.deepEqual(one, record({ files: ['foo-1.0.tar.gz'] }));
    const two = addRemoval(one, { project: 'foo', version: '2.0' });
    assert.deepEqual(two, record({ files: ['foo-1.0.tar.gz'], versions: ['2.0'] }));
    assert.deepEqual(addRemoval(two, { project: 'foo', version: '2.0' }), two, 'no duplicates');
    assert.deepEqual(addRemoval(two, { project: 'foo' }).whole, true);
  });
  const rows: [string, RemovalRecord, { version?: string; file?: string }, RemovalRecord | undefined, boolean][] = [
    [
      'a version forgets its files too',
      record({ files: ['foo-1.0.tar.gz', 'foo-2.0.tar.gz'], versions: ['1.0'] }),
      { version: '1' },
      record({ files: ['foo-2.0.tar.gz'] }),
      true,
    ],
    ['the last entry drops the record', record({ files: ['foo-1.0.tar.gz'] }), { file: 'foo-1.0.tar.gz' }, undefined, true],
    ['nothing of it recorded', record({ files: ['foo-1.0.tar.gz'] }), { version: '3.0' }, record({ files: ['foo-1.0.tar.gz'] }), false],
    ['the project forgets everything', record({ whole: true, versions: ['1.0'] }), {}, undefined, true],
    ['a file of a removed project stays removed', record({ whole: true }), { file: 'foo-1.0.tar.gz' }, record({ whole: true }), false],
  ];
  for (const [name, given, target, expected, forgotten] of rows) {
    test(name, () => assert.deepEqual(forgetRemoval(given, { project: 'foo', ...target }), { record: expected, forgotten }));
  }
});

describe('checkTarget', () => {
  test('names are normalised; a file must be a distribution of the project and version', () => {
    assert.deepEqual(checkTarget({ project: 'Foo_Bar', version: '1.0' }), { project: 'foo-bar', version: '1.0' });
    assert.deepEqual(checkTarget({ project: 'foo', version: '1', file: 'foo-1.0.tar.gz' }), { project: 'foo', version: '1', file: 'foo-1.0.tar.gz' });
  });
  const bad: [string, { project: string; version?: string; file?: string }, string, RegExp][] = [
    ['a path', { project: 'foo', file: '../foo-1.0.tar.gz' }, 'file', /not a path/],
    ['a backslash', { project: 'foo', file: 'x\\foo-1.0.tar.gz' }, 'file', /not a path/],
    ['a sidecar', { project: 'foo', file: 'foo-1.0.tar.gz.yanked' }, 'file', /not a distribution file name/],
    ['a hidden temp', { project: 'foo', file: '.foo-1.0.tar.gz' }, 'file', /not a distribution file name/],
    ['another project', { project: 'foo', file: 'bar-1.0.tar.gz' }, 'file', /not a file of project foo/],
    ['another version', { project: 'foo', version: '2.0', file: 'foo-1.0.tar.gz' }, 'file', /not a file of foo==2.0/],
    ['a bad project name', { project: 'foo/../bar' }, 'project', /not a valid project name/],
    ['a version with spaces', { project: 'foo', version: '1 0' }, 'version', /not a version/],
  ];
  for (const [name, raw, input, message] of bad) {
    test(`refused: ${name}`, () =>
      assert.throws(
        () => checkTarget(raw),
        (error: unknown) => error instanceof InputError && error.input === input && message.test(error.detail),
      ));
  }
});

describe('parseProjectSpec and checkReason', () => {
  test('PROJECT[==VERSION]', () => {
    assert.deepEqual(parseProjectSpec('foo', false), { project: 'foo' });
    assert.deepEqual(parseProjectSpec('foo==1.0', true), { project: 'foo', version: '1.0' });
    assert.throws(() => parseProjectSpec('foo', true), /give PROJECT==VERSION/);
    assert.throws(() => parseProjectSpec('foo===1.0', false), /not PROJECT==VERSION/);
    assert.throws(() => parseProjectSpec('==1.0', false), /not PROJECT==VERSION/);
  });
  test('a reason is one line', () => {
    assert.equal(checkReason(' broken build '), 'broken build');
    assert.throws(() => checkReason('a\nb'), /one line/);
    assert.throws(() => checkReason('x'.repeat(1001)), /longer than 1000/);
    // C1 controls (CSI), separators and bidi overrides would reach the terminal pip prints the reason to.
    for (const bad of ['a\u009b31mb', 'a\u0085b', 'a\u2028b', 'a\u2029b', 'a\u202eb', 'a\u2066b', 'a\u001bb', 'a\u007fb'])
      assert.throws(() => checkReason(bad), /control characters/, JSON.stringify(bad));
    assert.equal(checkReason('zoë: kaputt ✗'), 'zoë: kaputt ✗');
  });
});
