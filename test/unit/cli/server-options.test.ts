// serve's normaliser: flags -> ServerOptions, with the checks done before anything is indexed, forked or listened on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../../src/errors.js';
import { serveBasics, serveOptions, type ServeFacts } from '../../../src/cli/server-options.js';
import { serveFlagsOf, type ServeFlags } from '../../../src/cli/commands/serve-options.js';

const HASH5 = '$2b$05$' + 'a'.repeat(53);
const HASH7 = '$2b$07$' + 'b'.repeat(53);

function withDir(run: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'dib-pypi-serve-options-'));
  try {
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The flags as the command line gives them: every flag not given is undefined. */
function normalise(given: Partial<ServeFlags> & { positionals: string[] }, facts: Partial<ServeFacts> = {}) {
  const flags: ServeFlags = { ...serveFlagsOf({}, given.positionals), ...given };
  const all: ServeFacts = { env: {}, cores: 8, fdLimit: undefined, ...facts };
  return serveOptions(flags, serveBasics(flags, all.env), all);
}

function refused(run: () => unknown, message: RegExp): void {
  assert.throws(run, (error: unknown) => error instanceof UsageError && message.test(error.message));
}

test('a plain mirror: defaults, several processes, no cache or uploads', () => {
  withDir((dir) => {
    const { options, warnings } = normalise({ positionals: [dir] });
    assert.deepEqual(warnings, []);
    assert.deepEqual(options, {
      dir,
      host: '127.0.0.1',
      port: 8080,
      cacheBytes: 64 * 1024 * 1024,
      accessLog: undefined,
      workers: 4,
      isIndexedAtStart: true,
      limits: { maxConnections: 1024, headersTimeoutMs: 10_000 },
      proxy: undefined,
      uploads: undefined,
    });
    const given = normalise({
      positionals: [dir],
      host: '::1',
      port: '0',
      cacheMb: '8',
      accessLog: true,
      logFormat: 'json',
      workers: '2',
      noIndex: true,
      headersTimeout: '2.5',
    }).options;
    assert.equal(given.host, '::1');
    assert.equal(given.port, 0);
    assert.equal(given.cacheBytes, 8 * 1024 * 1024);
    assert.equal(given.accessLog, 'json');
    assert.equal(given.workers, 2);
    assert.equal(given.isIndexedAtStart, false);
    assert.equal(given.limits.headersTimeoutMs, 2500);
  });
});

test('the pull-through cache: its directory is made, one process, names normalised', () => {
  withDir((base) => {
    const dir = join(base, 'cache');
    const { options } = normalise({
      positionals: [dir],
      upstream: ['https://user:pw@example.org/simple/'],
      ttl: '60',
      timeout: '2',
      offline: true,
      allowUpstream: ['Foo_Bar'],
      maxPageSize: '1M',
      maxFileSize: '2G',
    });
    assert.equal(options.workers, 1);
    assert.deepEqual(options.proxy, {
      upstreams: ['https://user:pw@example.org/simple/'],
      ttlMs: 60_000,
      timeoutMs: 2000,
      offline: true,
      maxPageBytes: 1_000_000,
      maxFileBytes: 2_000_000_000,
      allowUpstream: new Set(['foo-bar']),
    });
    refused(
      () => normalise({ positionals: [dir], upstream: ['https://example.org/'], workers: '2' }),
      /^--workers: the pull-through cache \(--upstream\) runs in one process/,
    );
    refused(() => normalise({ positionals: [dir], upstream: ['https://example.org/'], allowUpstream: ['no/such'] }), /^--allow-upstream: not a project name/);
    refused(() => normalise({ positionals: [dir], ttl: '60' }), /^--ttl: only with --upstream URL/);
  });
});

test('uploads: htpasswd users and the token; warnings about differing bcrypt costs and too many connections', () => {
  withDir((dir) => {
    const auth = join(dir, 'htpasswd');
    writeFileSync(auth, `alice:${HASH5}\nbob:${HASH7}\n`);
    const { options, warnings } = normalise(
      { positionals: [dir], uploadAuth: auth, allowOverwrite: true, maxUploadMb: '5', maxLoginFailures: '0', maxConnections: '5000' },
      { env: { DIB_PYPI_UPLOAD_TOKEN: 'secret' }, fdLimit: 1024 },
    );
    assert.equal(options.workers, 1);
    assert.deepEqual(options.uploads, {
      credentials: {
        users: new Map([
          ['alice', HASH5],
          ['bob', HASH7],
        ]),
        token: 'secret',
      },
      allowOverwrite: true,
      maxBytes: 5 * 1024 * 1024,
      maxLoginFailures: Infinity,
    });
    assert.equal(options.limits.maxConnections, 1024 - 128);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0] ?? '', /^--max-connections: 5000 connections need more open files .*ulimit -n 1024/);
    assert.match(warnings[1] ?? '', /bcrypt costs differ \(05, 07\)/);
    const tokenOnly = normalise({ positionals: [dir] }, { env: { DIB_PYPI_UPLOAD_TOKEN: 'secret' } }).options.uploads;
    assert.deepEqual(tokenOnly?.credentials, { users: new Map(), token: 'secret' });
    assert.equal(normalise({ positionals: [dir] }, { env: { DIB_PYPI_UPLOAD_TOKEN: '' } }).options.uploads, undefined);
    refused(() => normalise({ positionals: [dir], allowOverwrite: true }), /^--allow-overwrite: needs uploads enabled/);
    refused(() => normalise({ positionals: [dir], uploadAuth: join(dir, 'none') }), /^--upload-auth: cannot read .*ENOENT/);
    writeFileSync(auth, '# nobody\n');
    refused(() => normalise({ positionals: [dir], uploadAuth: auth }), /^--upload-auth: ".*" lists no users/);
  });
});

test('--acl: read into the upload settings with the trusted uids; warnings for users who cannot log in; needs uploads', () => {
  withDir((dir) => {
    const auth = join(dir, 'htpasswd');
    writeFileSync(auth, `alice:${HASH5}\n`);
    const acl = join(dir, 'acl.ini');
    writeFileSync(acl, '[upload]\nteam-* = alice, alcie\n[create]\n* = __token__\n', { mode: 0o644 });
    const { options, warnings } = normalise({ positionals: [dir], uploadAuth: auth, uploadAcl: acl }, { env: { SUDO_UID: '4242' } });
    assert.deepEqual(
      options.uploads?.acl?.rules.upload.map((rule) => [rule.pattern, [...rule.users]]),
      [['team-*', ['alice', 'alcie']]],
    );
    const uid = process.getuid?.() ?? 0;
    assert.deepEqual([...(options.uploads?.acl?.trustedUids ?? [])].sort(), uid === 0 ? [0, 4242] : [0, uid]);
    assert.deepEqual(warnings, [
      `${acl} line 2 names user "alcie", who is not in the --upload-auth file`,
      `${acl} line 4 names __token__, but DIB_PYPI_UPLOAD_TOKEN is not set`,
    ]);
    const withToken = normalise({ positionals: [dir], uploadAuth: auth, uploadAcl: acl }, { env: { DIB_PYPI_UPLOAD_TOKEN: 't' } });
    assert.equal(withToken.warnings.length, 1, 'the token user can log in');
    refused(() => normalise({ positionals: [dir], uploadAcl: acl }), /^--acl: needs uploads enabled/);
    refused(() => normalise({ positionals: [dir], uploadAuth: auth, uploadAcl: join(dir, 'none') }), /^--acl: cannot read .*ENOENT/);
    writeFileSync(acl, '[upload]\nx = @team\n');
    assert.throws(
      () => normalise({ positionals: [dir], uploadAuth: auth, uploadAcl: acl }),
      (error: unknown) => error instanceof UsageError && error.message === `acl: ${acl} line 2: no group team in [groups]`,
    );
  });
});

test('the first bad value wins, in the order of the checks; DIR must be a directory', () => {
  withDir((dir) => {
    refused(() => normalise({ positionals: [dir], port: 'x', ttl: '1' }), /^--port:/);
    refused(() => normalise({ positionals: [dir], nginxPrefix: '/tmp' }), /^--nginx-prefix: only with --nginx-conf/);
    refused(() => normalise({ positionals: [join(dir, 'missing')] }), /^DIR: no such directory/);
    writeFileSync(join(dir, 'file'), '');
    refused(() => normalise({ positionals: [join(dir, 'file')] }), /^DIR: not a directory/);
    refused(() => normalise({ positionals: [dir], ttl: 'x', maxConnections: 'y', allowOverwrite: true }), /^--ttl: expected a number of seconds/);
    refused(() => normalise({ positionals: [dir], maxConnections: 'y', allowOverwrite: true }), /^--max-connections:/);
    refused(() => normalise({ positionals: [dir], headersTimeout: '0', allowOverwrite: true }), /^--headers-timeout:/);
  });
});
