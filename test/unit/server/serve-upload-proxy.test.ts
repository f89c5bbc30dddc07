// Pure parts of uploads and the pull-through cache: htpasswd and Basic auth, the upload form check, the proxy page, the re-index queue.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import bcrypt from 'bcryptjs';
import { Authenticator, parseBasicAuth } from '../../../src/server/credentials.js';
import { parseHtpasswd } from '../../../src/server/credentials.js';
import { UploadThreads } from '../../../src/server/upload-threads.js';
import { checkUpload, type UploadForm } from '../../../src/server/upload-form.js';
import { isSafeFilename } from '../../../src/upstream/simple-model.js';
import { buildProxyPage, localPageFiles } from '../../../src/server/proxy-page.js';
import { ReindexQueue } from '../../../src/mirror/store/reindex-queue.js';
import { StateError, UsageError } from '../../../src/errors.js';
import { renderProjectJson } from '../../../src/pypi/render-pages.js';
import type { IndexResult } from '../../../src/mirror/index/types.js';

const HASH = bcrypt.hashSync('pw', 4);

test('htpasswd: bcrypt entries only, comments and blank lines skipped, duplicates refused', () => {
  const users = parseHtpasswd(`# team\nalice:${HASH}\n\nbob:${HASH.replace(/^\$2b\$/, '$2y$')}\r\n`, 'FILE');
  assert.deepEqual([...users.keys()], ['alice', 'bob']);
  assert.throws(
    () => parseHtpasswd('alice:$apr1$x$y\n', 'FILE'),
    (e: unknown) => e instanceof UsageError && /FILE line 1: user "alice" has no bcrypt hash/.test(e.message),
  );
  assert.throws(() => parseHtpasswd('alice:{SHA}abc=\n', 'FILE'), UsageError);
  assert.throws(() => parseHtpasswd('alice:plain\n', 'FILE'), UsageError);
  assert.throws(() => parseHtpasswd(`no-colon\n`, 'FILE'), /line 1: expected user:hash/);
  assert.throws(() => parseHtpasswd(`a:${HASH}\na:${HASH}\n`, 'FILE'), /line 2: user "a" is listed twice/);
});

test('Basic auth header parsing', () => {
  const header = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;
  assert.deepEqual(parseBasicAuth(header('alice:pw:with:colons')), { user: 'alice', password: 'pw:with:colons' });
  assert.deepEqual(parseBasicAuth(header('__token__:')), { user: '__token__', password: '' });
  assert.equal(parseBasicAuth(undefined), undefined);
  assert.equal(parseBasicAuth('Bearer abc'), undefined);
  assert.equal(parseBasicAuth(header('no-colon')), undefined);
  assert.equal(parseBasicAuth('Basic !!!'), undefined);
});

test('Authenticator: htpasswd users by bcrypt (also $2y$), the token only for __token__, an empty token never', async () => {
  const pool = new UploadThreads();
  const auth = new Authenticator({ users: new Map([['alice', HASH.replace(/^\$2b\$/, '$2y$')]]), token: 'tok' }, pool);
  assert.equal(await auth.check('alice', 'pw'), true);
  assert.equal(await auth.check('alice', 'pw'), true, 'remembered');
  assert.equal(await auth.check('alice', 'PW'), false);
  assert.equal(await auth.check('bob', 'pw'), false);
  assert.equal(await auth.check('__token__', 'tok'), true);
  assert.equal(await auth.check('__token__', 'tok2'), false);
  assert.equal(await auth.check('alice', 'tok'), false, 'the token is not a password of other users');
  const empty = new Authenticator({ users: new Map(), token: '' }, pool);
  assert.equal(await empty.check('__token__', ''), false);
  await pool.close();
});

function form(fields: Record<string, string>, filename: string | undefined, content = Buffer.from('wheel bytes')): UploadForm {
  const digest = (algorithm: string) => createHash(algorithm).update(content).digest('hex');
  return {
    fields: new Map(Object.entries({ ':action': 'file_upload', name: 'Demo.Pkg', version: '1.0', ...fields })),
    filename,
    received: { md5: digest('md5'), sha256: digest('sha256'), blake2b256: 'b'.repeat(64), size: content.length },
  };
}

test('upload form: name, version and digests must fit the file', () => {
  const ok = checkUpload(form({ sha256_digest: createHash('sha256').update('wheel bytes').digest('hex') }, 'demo_pkg-1.0-py3-none-any.whl'));
  assert.deepEqual(ok.ok && [ok.project, ok.filename], ['demo-pkg', 'demo_pkg-1.0-py3-none-any.whl']);
  assert.equal(checkUpload(form({ version: '1.0.0' }, 'demo_pkg-1.0-py3-none-any.whl')).ok, true, 'PEP 440 equal versions');
  assert.equal(checkUpload(form({}, 'Demo.Pkg-1.0.tar.gz')).ok, true, 'a legacy sdist name');
  assert.equal(checkUpload(form({ blake2_256_digest: 'B'.repeat(64) }, 'demo_pkg-1.0-py3-none-any.whl')).ok, true, 'digests compare case-insensitively');
  const refusals: [UploadForm, RegExp][] = [
    [form({ ':action': 'submit' }, 'demo_pkg-1.0-py3-none-any.whl'), /unsupported :action "submit"/],
    [form({ name: 'bad name!' }, 'demo_pkg-1.0-py3-none-any.whl'), /invalid project name/],
    [form({ version: '' }, 'demo_pkg-1.0-py3-none-any.whl'), /missing version/],
    [form({}, undefined), /no file/],
    [form({}, 'dir/demo_pkg-1.0-py3-none-any.whl'), /a bare name/],
    [form({}, 'C:\\demo_pkg-1.0-py3-none-any.whl'), /a bare name/],
    [form({}, 'readme.txt'), /not a distribution file name/],
    [form({}, 'other-1.0-py3-none-any.whl'), /not a file of project Demo\.Pkg/],
    [form({ version: '2.0' }, 'demo_pkg-1.0-py3-none-any.whl'), /not version 2\.0/],
    [form({ md5_digest: '0'.repeat(32) }, 'demo_pkg-1.0-py3-none-any.whl'), /md5_digest does not match/],
    [form({ sha256_digest: '0'.repeat(64) }, 'demo_pkg-1.0-py3-none-any.whl'), /sha256_digest does not match/],
    [form({ blake2_256_digest: '0'.repeat(64) }, 'demo_pkg-1.0-py3-none-any.whl'), /blake2_256_digest does not match/],
    [form({}, 'demo_pkg-1.0-py3-none-any.whl', Buffer.alloc(0)), /is empty/],
  ];
  for (const [input, pattern] of refusals) {
    const result = checkUpload(input);
    assert.equal(result.ok, false, String(pattern));
    if (!result.ok) {
      assert.equal(result.status, 400);
      assert.match(result.message, pattern);
    }
  }
  for (const bad of ['', '.', '..', '.hidden.whl', 'a/b', 'a\\b', 'a\0b', 'a\nb', 'x'.repeat(256)])
    assert.equal(isSafeFilename(bad), false, JSON.stringify(bad));
});

test('proxy page: upstream files linked here, verifiable ones only, local-only files kept, versions in PEP 440 order', () => {
  const sha = (c: string) => c.repeat(64);
  const { page, problems } = buildProxyPage(
    'demo',
    [
      {
        filename: 'demo-1.10-py3-none-any.whl',
        url: 'https://files.example/x/demo-1.10-py3-none-any.whl',
        hashes: { sha256: sha('a') },
        size: 10,
        requiresPython: '>=3.8',
        coreMetadata: { sha256: sha('m') },
        uploadTime: '2020-01-01T00:00:00Z',
      },
      { filename: 'demo-1.9.tar.gz', url: 'https://files.example/demo-1.9.tar.gz', hashes: { sha256: sha('b') }, yanked: 'broken' },
      { filename: 'demo-1.8.tar.gz', url: 'https://files.example/demo-1.8.tar.gz', hashes: { md5: 'c'.repeat(32) } },
      { filename: 'notes.txt', url: 'https://files.example/notes.txt', hashes: { sha256: sha('d') } },
      { filename: 'demo-1.10-py3-none-any.whl', url: 'https://mirror.example/dup', hashes: { sha256: sha('e') } },
    ],
    [
      { filename: 'demo-1.10-py3-none-any.whl', url: 'demo-1.10-py3-none-any.whl', sha256: sha('f'), size: 10 },
      { filename: 'demo-0.1.tar.gz', url: 'demo-0.1.tar.gz', sha256: sha('0'), size: 5 },
    ],
  );
  assert.deepEqual(
    page.files.map((f) => [f.filename, f.url, f.sha256[0]]),
    [
      ['demo-0.1.tar.gz', 'demo-0.1.tar.gz', '0'],
      ['demo-1.10-py3-none-any.whl', 'demo-1.10-py3-none-any.whl', 'a'],
      ['demo-1.9.tar.gz', 'demo-1.9.tar.gz', 'b'],
    ],
  );
  assert.deepEqual(page.versions, ['0.1', '1.9', '1.10']);
  assert.equal(page.files[1]?.coreMetadataSha256, sha('m'));
  assert.equal(page.files[2]?.yanked, 'broken');
  assert.equal(problems.length, 2);
  assert.match(problems.join('\n'), /demo-1\.8\.tar\.gz: upstream gives no sha256/);
  assert.match(problems.join('\n'), /notes\.txt: not a distribution file name/);
  const json = JSON.parse(renderProjectJson(page)) as { meta: { 'api-version': string }; files: Record<string, unknown>[] };
  assert.equal(json.meta['api-version'], '1.0', 'a size is unknown (an HTML upstream): api-version 1.0 without PEP 700 fields');
  assert.equal(json.files[1]?.size, undefined);
});

test('proxy page: local page entries are read back from a page mirror index writes', () => {
  const files = localPageFiles(
    JSON.stringify({
      files: [
        {
          filename: 'a-1.0.tar.gz',
          url: 'a-1.0.tar.gz',
          hashes: { sha256: 'f'.repeat(64) },
          size: 3,
          'requires-python': '>=3',
          yanked: true,
          'upload-time': 'T',
        },
        { filename: 'bad' },
      ],
    }),
  );
  assert.deepEqual(files, [
    { filename: 'a-1.0.tar.gz', url: 'a-1.0.tar.gz', sha256: 'f'.repeat(64), size: 3, requiresPython: '>=3', yanked: true, uploadTime: 'T' },
  ]);
  assert.deepEqual(localPageFiles('{}'), []);
});

test('re-index queue: one run at a time; requests during a run share the next one; a held lock is waited for', async () => {
  const result: IndexResult = { projects: 0, files: 0, inspected: 0, written: 0, removed: 0, problems: [] } as unknown as IndexResult;
  let runs = 0;
  let running = 0;
  let release: (() => void) | undefined;
  const queue = new ReindexQueue(async () => {
    runs++;
    running++;
    assert.equal(running, 1, 'never two runs at once');
    await new Promise<void>((done) => (release = done));
    running--;
    return result;
  });
  const first = queue.request();
  const second = queue.request();
  const third = queue.request();
  assert.equal(second, third, 'waiting requests share the next run');
  release?.();
  await first;
  await new Promise((done) => setImmediate(done));
  release?.();
  await Promise.all([second, third]);
  assert.equal(runs, 2);

  let attempts = 0;
  const locked = new ReindexQueue(async () => {
    attempts++;
    if (attempts < 3) throw new StateError('held by another dib-pypi');
    return result;
  });
  await locked.request();
  assert.equal(attempts, 3);
  const broken = new ReindexQueue(async () => {
    throw new Error('disk full');
  });
  await assert.rejects(broken.request(), /disk full/);
});
