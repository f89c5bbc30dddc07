// redact / hasCredentials: secrets in URL userinfo never printed; plain text left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasAtAfterAuthority, hasCredentials, redact, redactDeep, unquote } from '../../src/redact.js';
import { randomPassword, seededRandom, passwordForms } from '../helpers/passwords.js';

const REDACT: { name: string; text: string; out: string; hasCredentials: boolean }[] = [
  { name: 'user:pass@', text: 'http://user:pass@mirror.local/simple', out: 'http://user:***@mirror.local/simple', hasCredentials: true },
  {
    name: 'user:pass@ with a port',
    text: 'https://user:pass@mirror.local:8443/simple/',
    out: 'https://user:***@mirror.local:8443/simple/',
    hasCredentials: true,
  },
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
  // Everything up to the last '@' is taken for userinfo (a password may hold / ? #), so a URL inside another's query goes with it.
  { name: 'a URL in the query of another', text: 'http://u:p@h/?next=http://a:b@c/', out: 'http://u:***@c/', hasCredentials: true },
  {
    name: 'multi-line text',
    text: 'line one http://u:p@a/\nline two https://t@b/\n',
    out: 'line one http://u:***@a/\nline two https://***@b/\n',
    hasCredentials: true,
  },
  { name: 'not a valid URL: bad port', text: 'http://user:pass@h:port/', out: 'http://user:***@h:port/', hasCredentials: true },
  { name: 'not a valid URL: no host', text: 'http://user:pass@', out: 'http://user:***@', hasCredentials: true },
  { name: 'not a valid URL: misspelt scheme', text: 'htp://user:pass@h/', out: 'htp://user:***@h/', hasCredentials: true },
  { name: 'not a valid URL: bracket host', text: 'http://user:pass@[bad/', out: 'http://user:***@[bad/', hasCredentials: true },
  { name: 'already redacted stays the same', text: 'http://user:***@h/', out: 'http://user:***@h/', hasCredentials: true },
  // A password may hold a raw '@' (WHATWG URL and pip both split userinfo at the last '@' before the host).
  { name: 'password with a raw @', text: 'http://user:p@ss@h/simple', out: 'http://user:***@h/simple', hasCredentials: true },
  // ... or a raw / ? # % or blank, which parsers read as the end of the host: no byte of it is printed either way.
  { name: 'password with a raw /', text: 'http://user:12/ab@h/simple', out: 'http://user:***@h/simple', hasCredentials: true },
  { name: 'password with a raw ?', text: 'error: http://user:a?b=c@h/simple failed', out: 'error: http://user:***@h/simple failed', hasCredentials: true },
  { name: 'password with a raw #', text: 'http://user:12#x@h/simple', out: 'http://user:***@h/simple', hasCredentials: true },
  { name: 'password with a raw %', text: 'http://user:100%zz@h/', out: 'http://user:***@h/', hasCredentials: true },
  {
    name: 'password with blanks',
    text: 'cannot reach "http://user:a b  c@h/simple" (refused)',
    out: 'cannot reach "http://user:***@h/simple" (refused)',
    hasCredentials: true,
  },
  { name: 'password with a scheme-like part', text: 'http://user:x:/y://z@h/', out: 'http://user:***@h/', hasCredentials: true },
  { name: 'password with unicode and a no-break space', text: 'http://user:pä\u00a0ß€@h/', out: 'http://user:***@h/', hasCredentials: true },
  { name: 'token with a raw /', text: 'https://ab/cd+ef==@h/simple', out: 'https://***@h/simple', hasCredentials: true },
  { name: 'backslashes (WHATWG reads them as /)', text: 'http:\\\\user:pw@h\\simple', out: 'http:\\\\user:***@h\\simple', hasCredentials: true },
  { name: 'http: without slashes (WHATWG reads http://)', text: 'http:user:pw@h/', out: 'http:user:***@h/', hasCredentials: true },
  {
    name: 'two URLs after a comma and a blank',
    text: 'cache of http://a:1/x@h/, http://b:2?y@i/',
    out: 'cache of http://a:***@h/, http://b:***@i/',
    hasCredentials: true,
  },
  { name: 'lines are separate', text: 'http://h/\nme@example.com\r\nhttp://u:p@q/', out: 'http://h/\nme@example.com\r\nhttp://u:***@q/', hasCredentials: true },
  // No false positives.
  { name: 'plain text', text: 'no urls here: user:pass and word@word', out: 'no urls here: user:pass and word@word', hasCredentials: false },
  { name: 'empty text', text: '', out: '', hasCredentials: false },
  { name: 'an e-mail address', text: 'write to user@example.com', out: 'write to user@example.com', hasCredentials: false },
  { name: 'mailto', text: 'mailto:user@example.com', out: 'mailto:user@example.com', hasCredentials: false },
  { name: 'scp-like address', text: 'git@github.example:org/repo.git', out: 'git@github.example:org/repo.git', hasCredentials: false },
  { name: 'URL without userinfo', text: 'https://pypi.org/simple', out: 'https://pypi.org/simple', hasCredentials: false },
  { name: 'file URL', text: 'file:///tmp/pypi', out: 'file:///tmp/pypi', hasCredentials: false },
  // The price of never printing a password that holds / ? # or a blank: an '@' later on the line
  // ends what is taken for userinfo, wherever it is.
  { name: '@ in the path', text: 'http://h/path/@v1/', out: 'http://***@v1/', hasCredentials: true },
  { name: '@ in the query', text: 'http://h/simple?mail=a@b', out: 'http://***@b', hasCredentials: true },
  { name: '@ in the fragment', text: 'http://h/#a@b', out: 'http://***@b', hasCredentials: true },
  { name: 'URL then an e-mail after a blank', text: 'http://h/ contact me@example.com', out: 'http://***@example.com', hasCredentials: true },
  { name: 'e-mail before a URL', text: 'me@example.com wrote http://h/', out: 'me@example.com wrote http://h/', hasCredentials: false },
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

test('redactDeep: every string of a JSON value, keys included; other values as they are', () => {
  const value = { 'http://k:key@h/': ['http://u:p w@h/', 3, null, true], nested: { url: 'http://u:p"q@h/' } };
  assert.deepEqual(redactDeep(value), { 'http://k:***@h/': ['http://u:***@h/', 3, null, true], nested: { url: 'http://u:***@h/' } });
});

const AT_AFTER: { url: string; is: boolean }[] = [
  { url: 'http://u:12/b@h/', is: true },
  { url: 'http://u:a?b@h/', is: true },
  { url: 'http://u:a#b@h/', is: true },
  { url: 'http://u:p@ss@h/simple', is: false },
  { url: 'http://u:p%2Fss@h/simple', is: false },
  { url: 'http://h/simple/', is: false },
  { url: 'file:///tmp/pypi', is: false },
];
for (const row of AT_AFTER) {
  test(`hasAtAfterAuthority(${row.url}) = ${row.is}`, () => assert.equal(hasAtAfterAuthority(row.url), row.is));
}

test('unquote: as urllib.parse.unquote, never throwing', () => {
  assert.equal(unquote('p%40ss%2F%3F%23'), 'p@ss/?#');
  assert.equal(unquote('100%zz%'), '100%zz%');
  assert.equal(unquote('%C3%A4%E2%82%AC'), 'ä€');
  assert.equal(unquote('%ff'), '\ufffd');
});

// Property: for random passwords over a hostile alphabet, in every form a URL takes in our output
// (raw, WHATWG-encoded, percent-encoded, in a sentence, two on a line, in JSON), the password is
// replaced, and only it: the output is exactly the URL with `user:***`.
test('redact: property over random passwords (/ # ? @ % : blanks, unicode)', () => {
  const seed = Number(process.env.DIB_PYPI_REDACT_SEED ?? Date.now() % 100000);
  const random = seededRandom(seed);
  for (let i = 0; i < 50; i++) {
    const password = randomPassword(random);
    const other = randomPassword(random);
    const why = `seed ${seed}, password ${JSON.stringify(password)}`;
    for (const form of passwordForms(password)) {
      assert.equal(redact(`http://alice:${form}@mirror.test:8080/simple/`), 'http://alice:***@mirror.test:8080/simple/', why);
      // A token alone: what precedes its first ':' is, by definition, a user name.
      const user = form.includes(':') ? `${form.slice(0, form.indexOf(':'))}:` : '';
      assert.equal(redact(`https://${form}@mirror.test/simple`), `https://${user}***@mirror.test/simple`, why);
      assert.equal(
        redact(`error: cannot reach http://alice:${form}@mirror.test/simple/x/ (ECONNREFUSED)`),
        'error: cannot reach http://alice:***@mirror.test/simple/x/ (ECONNREFUSED)',
        why,
      );
      assert.equal(
        redact(`index http://a:${form}@x/simple, extra https://b:${other}@y/simple`),
        'index http://a:***@x/simple, extra https://b:***@y/simple',
        why,
      );
    }
    const url = new URL('http://mirror.test/simple/');
    url.username = 'alice';
    url.password = password;
    assert.equal(redact(url.href), 'http://alice:***@mirror.test/simple/', why);
    const json = JSON.stringify(redactDeep({ url: `http://alice:${password}@h/`, message: `GET http://alice:${password}@h/x failed` }));
    assert.equal(json, JSON.stringify({ url: 'http://alice:***@h/', message: 'GET http://alice:***@h/x failed' }), why);
    assert.equal(hasCredentials(`http://alice:${password}@h/`), true, why);
  }
});
