// redact / hasCredentials: secrets in URL userinfo never printed; plain text left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasCredentials, redact } from '../../src/redact.js';

const REDACT: { name: string; text: string; out: string; hasCredentials: boolean }[] = [
  { name: 'user:pass@', text: 'http://user:pass@mirror.local/simple', out: 'http://user:***@mirror.local/simple', hasCredentials: true },
  { name: 'user:pass@ with a port', text: 'https://user:pass@mirror.local:8443/simple/', out: 'https://user:***@mirror.local:8443/simple/', hasCredentials: true },
  { name: 'token-only userinfo', text: 'https://t0ken@mirror.example/simple', out: 'https://***@mirror.example/simple', hasCredentials: true },
  { name: 'empty password', text: 'http://user:@h/', out: 'http://user:***@h/', hasCredentials: true },
  { name: 'empty user', text: 'http://:pass@h/', out: 'http://:***@h/', hasCredentials: true },
  { name: 'password with a colon', text: 'http://user:pa:ss@h/', out: 'http://user:***@h/', hasCredentials: true },
  { name: 'percent-encoded userinfo', text: 'http://us%40er:p%3Ass@h/', out: 'http://us%40er:***@h/', hasCredentials: true },
  { name: 'upper-case scheme', text: 'HTTP://USER:PASS@H/', out: 'HTTP://USER:***@H/', hasCredentials: true },
  { name: 'scheme with + . -', text: 'git+https://user:pass@h/repo', out: 'git+https://user:***@h/repo', hasCredentials: true },
  { name: 'URL without a path', text: 'http://user:pass@h', out: 'http://user:***@h', hasCredentials: true },
  { name: 'in quotes', text: '"http://user:pass@h/"', out: '"http://user:***@h/"', hasCredentials: true },
  { name: 'in a pip.conf line', text: 'index-url = http://user:pass@h/simple', out: 'index-url = http://user:***@h/simple', hasCredentials: true },
  { name: 'in an assignment', text: 'PIP_INDEX_URL=https://t0ken@h/simple', out: 'PIP_INDEX_URL=https://***@h/simple', hasCredentials: true },
  {
    name: 'several URLs in one text',
    text: 'index http://a:1@x/simple and extra https://t0k@y/simple, also file:///tmp/pypi and http://b:2@z:8080/',
    out: 'index http://a:***@x/simple and extra https://***@y/simple, also file:///tmp/pypi and http://b:***@z:8080/',
    hasCredentials: true,
  },
  { name: 'a URL in the query of another', text: 'http://u:p@h/?next=http://a:b@c/', out: 'http://u:***@h/?next=http://a:***@c/', hasCredentials: true },
  { name: 'multi-line text', text: 'line one http://u:p@a/\nline two https://t@b/\n', out: 'line one http://u:***@a/\nline two https://***@b/\n', hasCredentials: true },
  { name: 'not a valid URL: bad port', text: 'http://user:pass@h:port/', out: 'http://user:***@h:port/', hasCredentials: true },
  { name: 'not a valid URL: no host', text: 'http://user:pass@', out: 'http://user:***@', hasCredentials: true },
  { name: 'not a valid URL: misspelt scheme', text: 'htp://user:pass@h/', out: 'htp://user:***@h/', hasCredentials: true },
  { name: 'not a valid URL: bracket host', text: 'http://user:pass@[bad/', out: 'http://user:***@[bad/', hasCredentials: true },
  { name: 'already redacted stays the same', text: 'http://user:***@h/', out: 'http://user:***@h/', hasCredentials: true },
  // A password may hold a raw '@' (WHATWG URL and pip both split userinfo at the last '@' before the host).
  { name: 'password with a raw @', text: 'http://user:p@ss@h/simple', out: 'http://user:***@h/simple', hasCredentials: true },
  // No false positives.
  { name: 'plain text', text: 'no urls here: user:pass and word@word', out: 'no urls here: user:pass and word@word', hasCredentials: false },
  { name: 'empty text', text: '', out: '', hasCredentials: false },
  { name: 'an e-mail address', text: 'write to user@example.com', out: 'write to user@example.com', hasCredentials: false },
  { name: 'mailto', text: 'mailto:user@example.com', out: 'mailto:user@example.com', hasCredentials: false },
  { name: 'scp-like address', text: 'git@github.example:org/repo.git', out: 'git@github.example:org/repo.git', hasCredentials: false },
  { name: 'URL without userinfo', text: 'https://pypi.org/simple', out: 'https://pypi.org/simple', hasCredentials: false },
  { name: 'file URL', text: 'file:///tmp/pypi', out: 'file:///tmp/pypi', hasCredentials: false },
  { name: '@ in the path', text: 'http://h/path/@v1/', out: 'http://h/path/@v1/', hasCredentials: false },
  { name: '@ in the query', text: 'http://h/simple?mail=a@b', out: 'http://h/simple?mail=a@b', hasCredentials: false },
  { name: '@ in the fragment', text: 'http://h/#a@b', out: 'http://h/#a@b', hasCredentials: false },
  { name: 'URL then an e-mail after a blank', text: 'http://h/ contact me@example.com', out: 'http://h/ contact me@example.com', hasCredentials: false },
  { name: 'scheme inside a word is not a URL start', text: '1http://h', out: '1http://h', hasCredentials: false },
];

for (const row of REDACT) {
  test(`redact: ${row.name}`, () => {
    assert.equal(redact(row.text), row.out);
  });
  test(`hasCredentials: ${row.name} -> ${row.hasCredentials}`, () => {
    assert.equal(hasCredentials(row.text), row.hasCredentials);
  });
}

test('redact is idempotent', () => {
  for (const row of REDACT) assert.equal(redact(redact(row.text)), redact(row.text), row.text);
});

test('hasCredentials keeps no state between calls (global regex lastIndex)', () => {
  const url = 'http://user:pass@h/';
  assert.equal(hasCredentials(url), true);
  assert.equal(hasCredentials(url), true);
  assert.equal(hasCredentials('http://h/'), false);
  assert.equal(hasCredentials('x http://u:p@h/'), true);
  redact('http://a:b@c/ http://d:e@f/');
  assert.equal(hasCredentials(url), true);
});
