// Core metadata's Name, Summary and description as the web page shows them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readMetadataText } from '../../../src/pypi/metadata-text.js';

test('readMetadataText: one row per layout, the exact text it gives', () => {
  const rows: [string, string | Buffer, ReturnType<typeof readMetadataText>][] = [
    [
      '2.1 body',
      'Metadata-Version: 2.1\nName: Demo\nVersion: 1\nSummary: A demo\n\n# Title\n\nText <b>\n',
      { name: 'Demo', summary: 'A demo', description: '# Title\n\nText <b>' },
    ],
    ['CRLF', 'Name: a\r\nVersion: 1\r\n\r\nline 1\r\nline 2\r\n', { name: 'a', description: 'line 1\nline 2' }],
    ['folded summary', 'Name: a\nSummary: one\n  two\nVersion: 1\n', { name: 'a', summary: 'one two' }],
    ['first value kept', 'Name: a\nSummary: first\nSummary: second\n', { name: 'a', summary: 'first' }],
    [
      'pre-2.1 Description with setuptools bars',
      'Name: a\nDescription: First line\n        |\n        |  indented\n        |last\nVersion: 1\n',
      { name: 'a', description: 'First line\n\n  indented\nlast' },
    ],
    ['pre-2.1 Description, 8 spaces', 'Name: a\nDescription: x\n        y\n          z\n', { name: 'a', description: 'x\ny\n  z' }],
    ['body beats the field', 'Name: a\nDescription: old\n\nnew\n', { name: 'a', description: 'new' }],
    ['empty fields left out', 'Name: a\nSummary:\n\n\n', { name: 'a' }],
    ['no headers', '', {}],
    ['latin-1 bytes', Buffer.from('Name: caf\xe9\nSummary: \xe9t\xe9\n', 'latin1'), { name: 'caf\u00e9', summary: '\u00e9t\u00e9' }],
    ['BOM dropped', '\uFEFFName: a\n', { name: 'a' }],
  ];
  for (const [what, input, expected] of rows) assert.deepEqual(readMetadataText(input), expected, what);
});
