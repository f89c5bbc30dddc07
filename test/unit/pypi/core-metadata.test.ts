// parseCoreMetadata, parseHeaders and decodeMetadataText: one row per METADATA / PKG-INFO text, with the exact result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMetadataText, parseCoreMetadata, parseHeaders } from '../../../src/pypi/core-metadata.js';
import { BrokenDistributionError } from '../../../src/pypi/errors.js';
import { DibPypiError } from '../../../src/errors.js';
import type { CoreMetadata } from '../../../src/pypi/types.js';

const core = (fields: Partial<CoreMetadata> & { name: string; version: string }): CoreMetadata => ({ requiresDist: [], providesExtra: [], ...fields });

const CASES: { name: string; text: string | Buffer; out: CoreMetadata }[] = [
  {
    name: 'Metadata-Version 1.0, the minimum',
    text: 'Metadata-Version: 1.0\nName: foo\nVersion: 0.1\nSummary: UNKNOWN\n',
    out: core({ metadataVersion: '1.0', name: 'foo', version: '0.1' }),
  },
  {
    name: 'Metadata-Version 1.1 PKG-INFO with Requires (not Requires-Dist) and a folded Description header',
    text:
      'Metadata-Version: 1.1\nName: zope.interface\nVersion: 5.0\nSummary: Interfaces\nRequires: setuptools\n' +
      'Description: first line\n        second line\n        \n        third\nPlatform: UNKNOWN\n',
    out: core({ metadataVersion: '1.1', name: 'zope.interface', version: '5.0' }),
  },
  {
    name: 'Metadata-Version 2.1 with requirements, extras and a body',
    text:
      'Metadata-Version: 2.1\nName: Demo.Pkg\nVersion: 1.0\nRequires-Python: >=3.7\n' +
      'Requires-Dist: dep-lib (>=1)\nRequires-Dist: pytest ; extra == "test"\nProvides-Extra: test\nProvides-Extra: docs\n' +
      'Description-Content-Type: text/markdown\n\n# Demo\n\nName: not-a-header\nRequires-Dist: not-a-header\n',
    out: core({
      metadataVersion: '2.1',
      name: 'Demo.Pkg',
      version: '1.0',
      requiresPython: '>=3.7',
      requiresDist: ['dep-lib (>=1)', 'pytest ; extra == "test"'],
      providesExtra: ['test', 'docs'],
    }),
  },
  {
    name: 'Metadata-Version 2.4 with License-Expression and Dynamic',
    text: 'Metadata-Version: 2.4\nName: new\nVersion: 3.0\nLicense-Expression: MIT\nLicense-File: LICENSE\nDynamic: requires-dist\nRequires-Dist: a\n',
    out: core({ metadataVersion: '2.4', name: 'new', version: '3.0', requiresDist: ['a'] }),
  },
  {
    name: 'header names are case-insensitive',
    text: 'metadata-version: 2.1\nNAME: upper\nvErSiOn: 2\nREQUIRES-DIST: x\nrequires-python: >=3\nPROVIDES-EXTRA: e\n',
    out: core({ metadataVersion: '2.1', name: 'upper', version: '2', requiresPython: '>=3', requiresDist: ['x'], providesExtra: ['e'] }),
  },
  {
    name: 'CRLF line endings',
    text: 'Metadata-Version: 2.1\r\nName: crlf\r\nVersion: 1.0\r\nRequires-Dist: a\r\n\r\nbody\r\n',
    out: core({ metadataVersion: '2.1', name: 'crlf', version: '1.0', requiresDist: ['a'] }),
  },
  {
    name: 'old Mac CR line endings',
    text: 'Metadata-Version: 1.0\rName: cr\rVersion: 1.0\r\rName: body\r',
    out: core({ metadataVersion: '1.0', name: 'cr', version: '1.0' }),
  },
  {
    name: 'continuation lines are folded with one space (tab or spaces)',
    text: 'Name: folded\nVersion: 1.0\nRequires-Dist: foo;\n    python_version < "3.8"\nRequires-Python:\n\t>=3.6\n',
    out: core({ name: 'folded', version: '1.0', requiresPython: '>=3.6', requiresDist: ['foo; python_version < "3.8"'] }),
  },
  {
    name: 'values are trimmed; no space after the colon is fine',
    text: 'Name:tight\nVersion:   1.0   \nRequires-Dist:  a>=1 \t\n',
    out: core({ name: 'tight', version: '1.0', requiresDist: ['a>=1'] }),
  },
  {
    name: 'the first Name and Version win (Message.__getitem__)',
    text: 'Name: first\nVersion: 1\nName: second\nVersion: 2\n',
    out: core({ name: 'first', version: '1' }),
  },
  {
    name: 'an empty Name is skipped for a later one',
    text: 'Name:\nName: later\nVersion: 1\n',
    out: core({ name: 'later', version: '1' }),
  },
  {
    name: 'empty Requires-Python and Requires-Dist values are absent',
    text: 'Name: e\nVersion: 1\nRequires-Python: \nRequires-Dist:\nProvides-Extra:\n',
    out: core({ name: 'e', version: '1' }),
  },
  {
    name: 'a line that is not a header ends the headers (body without a blank line)',
    text: 'Name: nobreak\nVersion: 1\nThis is the description, not a header\nRequires-Dist: not-seen\n',
    out: core({ name: 'nobreak', version: '1' }),
  },
  {
    name: 'a header name with a space is not a header',
    text: 'Name: sp\nVersion: 1\nRequires Dist: x\nRequires-Dist: y\n',
    out: core({ name: 'sp', version: '1' }),
  },
  {
    name: 'no final newline',
    text: 'Name: nonl\nVersion: 1.0',
    out: core({ name: 'nonl', version: '1.0' }),
  },
  {
    name: 'a UTF-8 BOM is dropped',
    text: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('Name: bom\nVersion: 1\n')]),
    out: core({ name: 'bom', version: '1' }),
  },
  {
    name: 'UTF-8 bytes are decoded as UTF-8',
    text: Buffer.from('Name: caf\u00e9\nVersion: 1\nAuthor: Zo\u00eb\nRequires-Dist: na\u00efve\n', 'utf8'),
    out: core({ name: 'caf\u00e9', version: '1', requiresDist: ['na\u00efve'] }),
  },
  {
    name: 'latin-1 bytes (Python 2 distutils) fall back to latin-1',
    text: Buffer.concat([
      Buffer.from('Name: old\nVersion: 1\nAuthor: Fran'),
      Buffer.from([0xe7]),
      Buffer.from('ois\nRequires-Dist: d'),
      Buffer.from([0xe9]),
      Buffer.from('j\u00e0\n', 'latin1'),
    ]),
    out: core({ name: 'old', version: '1', requiresDist: ['d\u00e9j\u00e0'] }),
  },
  {
    name: 'a string input is used as is',
    text: 'Name: str\nVersion: 1\nRequires-Dist: \u00e9\n',
    out: core({ name: 'str', version: '1', requiresDist: ['\u00e9'] }),
  },
  {
    name: 'a huge description body is ignored',
    text: 'Name: big\nVersion: 1\n\n' + 'Name: x\n'.repeat(100_000),
    out: core({ name: 'big', version: '1' }),
  },
];

for (const { name, text, out } of CASES) {
  test(`parseCoreMetadata: ${name}`, () => {
    assert.deepEqual(parseCoreMetadata(text), out);
  });
}

const BROKEN: { name: string; text: string; reason: string }[] = [
  { name: 'empty file', text: '', reason: 'core metadata has no Name and no Version' },
  { name: 'no Name', text: 'Metadata-Version: 2.1\nVersion: 1.0\n', reason: 'core metadata has no Name' },
  { name: 'no Version', text: 'Metadata-Version: 2.1\nName: x\n', reason: 'core metadata has no Version' },
  { name: 'empty Name', text: 'Name: \nVersion: 1\n', reason: 'core metadata has no Name' },
  { name: 'Name only in the body', text: 'Metadata-Version: 2.1\nVersion: 1\n\nName: x\n', reason: 'core metadata has no Name' },
  { name: 'a blank first line: everything is body', text: '\nName: x\nVersion: 1\n', reason: 'core metadata has no Name and no Version' },
  { name: 'a continuation as first line: everything is body', text: ' Name: x\nVersion: 1\n', reason: 'core metadata has no Name and no Version' },
  { name: 'not metadata at all (HTML)', text: '<html><body>404</body></html>\n', reason: 'core metadata has no Name and no Version' },
];

for (const { name, text, reason } of BROKEN) {
  test(`parseCoreMetadata throws BrokenDistributionError: ${name}`, () => {
    assert.throws(
      () => parseCoreMetadata(text, 'dir/x-1.0-py3-none-any.whl'),
      (error: unknown) => {
        assert.ok(error instanceof BrokenDistributionError, `expected BrokenDistributionError, got ${String(error)}`);
        assert.ok(error instanceof DibPypiError);
        assert.equal(error.exitCode, 1);
        assert.equal(error.name, 'BrokenDistributionError');
        assert.equal(error.path, 'dir/x-1.0-py3-none-any.whl');
        assert.equal(error.reason, reason);
        assert.equal(error.message, `broken distribution dir/x-1.0-py3-none-any.whl: ${reason}`);
        return true;
      },
    );
  });
}

test('parseCoreMetadata: without a path the error names the metadata', () => {
  assert.throws(() => parseCoreMetadata('Name: x\n'), {
    name: 'BrokenDistributionError',
    path: 'core metadata',
    message: 'broken distribution core metadata: core metadata has no Version',
  });
});

const HEADERS: { name: string; text: string; out: [string, string][] }[] = [
  {
    name: 'order and repeats kept, names lower-cased',
    text: 'A: 1\nb: 2\nA: 3\n',
    out: [
      ['a', '1'],
      ['b', '2'],
      ['a', '3'],
    ],
  },
  { name: 'continuation of an empty value', text: 'A:\n  x\n  y\n', out: [['a', 'x y']] },
  {
    name: 'whitespace-only continuation adds nothing',
    text: 'A: 1\n   \nB: 2\n',
    out: [
      ['a', '1'],
      ['b', '2'],
    ],
  },
  { name: 'colons inside the value', text: 'Project-URL: Home, https://x.example:8080/a\n', out: [['project-url', 'Home, https://x.example:8080/a']] },
  { name: 'stops at the blank line', text: 'A: 1\n\nB: 2\n', out: [['a', '1']] },
  { name: 'nothing', text: '', out: [] },
];

for (const { name, text, out } of HEADERS) {
  test(`parseHeaders: ${name}`, () => {
    assert.deepEqual(parseHeaders(text), out);
  });
}

const DECODE: { name: string; bytes: Buffer; out: string }[] = [
  { name: 'ASCII', bytes: Buffer.from('abc'), out: 'abc' },
  { name: 'UTF-8', bytes: Buffer.from('\u00e9\u4e2d', 'utf8'), out: '\u00e9\u4e2d' },
  { name: 'latin-1 (invalid UTF-8)', bytes: Buffer.from([0x61, 0xe9, 0x62]), out: 'a\u00e9b' },
  { name: 'a truncated UTF-8 sequence is latin-1', bytes: Buffer.from([0x61, 0xc3]), out: 'a\u00c3' },
  { name: 'latin-1 is ISO-8859-1, not windows-1252 (0x80 is U+0080, not the euro sign)', bytes: Buffer.from([0x80, 0xff]), out: '\u0080\u00ff' },
  { name: 'BOM dropped', bytes: Buffer.from([0xef, 0xbb, 0xbf, 0x41]), out: 'A' },
];

for (const { name, bytes, out } of DECODE) {
  test(`decodeMetadataText: ${name}`, () => {
    assert.equal(decodeMetadataText(bytes), out);
  });
}
