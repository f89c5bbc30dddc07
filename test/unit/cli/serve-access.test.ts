// serve's normaliser for --read-auth, --metrics-auth and --tls-cert/--tls-key: the settings it hands the server, and its refusals.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { serveFlagsOf, type ServeFlags } from '../../../src/cli/commands/serve-options.js';
import { serveBasics, serveOptions, type ServeFacts } from '../../../src/cli/server-options.js';
import { UsageError } from '../../../src/errors.js';

const HASH5 = `$2y$05$${'a'.repeat(53)}`;
const HASH7 = `$2y$07$${'b'.repeat(53)}`;

function normalise(given: Partial<ServeFlags> & { positionals: string[] }, facts: Partial<ServeFacts> = {}) {
  const flags: ServeFlags = { ...serveFlagsOf({}, given.positionals), ...given };
  const all: ServeFacts = { env: {}, cores: 8, fdLimit: undefined, ...facts };
  return serveOptions(flags, serveBasics(flags, all.env), all);
}

test('--read-auth and --metrics-auth: their files, the login limit, several processes allowed; warnings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dib-pypi-serve-access-'));
  try {
    const readers = join(dir, 'readers');
    writeFileSync(readers, `alice:${HASH5}\nbob:${HASH7}\n`);
    const watchers = join(dir, 'watchers');
    writeFileSync(watchers, `prometheus:${HASH5}\n`);
    const { options, warnings } = normalise({ positionals: [dir], readAuth: readers, metricsAuth: watchers, maxLoginFailures: '5' });
    assert.deepEqual(options.access, { readUsersFile: readers, metricsUsersFile: watchers, maxLoginFailures: 5 });
    assert.equal(options.workers, 4, 'read auth runs in every process');
    assert.equal(options.tls, undefined);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] as string, /readers: the users' bcrypt costs differ \(05, 07\)/);
    const wide = normalise({ positionals: [dir], readAuth: watchers, host: '0.0.0.0' });
    assert.deepEqual(wide.warnings.length, 1);
    assert.match(wide.warnings[0] as string, /^read or metrics passwords on 0\.0\.0\.0 without TLS/);
    assert.equal(normalise({ positionals: [dir], metricsAuth: watchers }).options.access?.readUsersFile, undefined);
    assert.throws(
      () => normalise({ positionals: [dir], tlsCert: readers }),
      (error: unknown) => error instanceof UsageError && error.message === '--tls-cert: needs --tls-key FILE too',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
