// The read-auth password file: bcrypt (real, bcryptjs) once per credential and never for a remembered
// pair, concurrent requests sharing one check, unknown users as dear as known ones, a bounded memory
// that holds no password, an edited or broken file taking effect.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Runtime, Session } from 'node:inspector/promises';
import bcrypt from 'bcryptjs';
import { PasswordFile, type Verdict } from '../../../src/server/password-file.js';
import { isLoopbackHost, clearTextWarning } from '../../../src/cli/serve-access.js';
import { renderNginxSite } from '../../../src/server/nginx-conf.js';
import { makeTempDir } from '../../helpers/python.js';

/** Real bcrypt, counted: which hashes were compared. */
function countingHasher() {
  const compared: string[] = [];
  return {
    compared,
    compare: async (password: string, hash: string) => {
      compared.push(hash);
      return bcrypt.compare(password, hash.replace(/^\$2y\$/, '$2b$'));
    },
  };
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

function writeUsers(path: string, users: Record<string, string>, cost = 4): void {
  writeFileSync(
    path,
    Object.entries(users)
      .map(([user, password]) => `${user}:${bcrypt.hashSync(password, cost).replace(/^\$2b\$/, '$2y$')}\n`)
      .join(''),
  );
}

async function verdict(file: PasswordFile, header: string | undefined): Promise<Verdict> {
  return file.check(header);
}

test('a right password is bcrypt-checked once, then answered at once (no promise); concurrent requests share one check', async () => {
  await using dir = makeTempDir('dib-pypi-pwfile-');
  const path = join(dir.path, 'users');
  writeUsers(path, { alice: 'a-pass', bob: 'b-pass' });
  const hasher = countingHasher();
  const file = new PasswordFile({ path, hasher, pollMs: 0, log: () => undefined });
  const header = basic('alice', 'a-pass');
  const all = await Promise.all(Array.from({ length: 20 }, () => verdict(file, header)));
  assert.deepEqual(new Set(all), new Set(['ok']));
  assert.equal(hasher.compared.length, 1, '20 concurrent requests, one bcrypt run');
  for (let i = 0; i < 100; i++) assert.equal(file.check(header), 'ok', 'remembered: a plain value, not a promise');
  assert.equal(hasher.compared.length, 1);
  assert.equal(file.check(undefined), 'missing');
  assert.equal(file.check('Bearer x'), 'missing');
  assert.equal(file.check('Basic !!!'), 'missing');
  file.close();
});

test('wrong passwords are never remembered; an unknown user costs a bcrypt run at the dearest cost too', async () => {
  await using dir = makeTempDir('dib-pypi-pwfile-');
  const path = join(dir.path, 'users');
  writeUsers(path, { alice: 'a-pass' }, 6);
  const hasher = countingHasher();
  const file = new PasswordFile({ path, hasher, pollMs: 0, log: () => undefined });
  assert.equal(await verdict(file, basic('alice', 'wrong')), 'bad');
  assert.equal(await verdict(file, basic('alice', 'wrong')), 'bad');
  assert.equal(hasher.compared.length, 2, 'each wrong try costs bcrypt');
  assert.equal(await verdict(file, basic('mallory', 'a-pass')), 'bad');
  assert.equal(hasher.compared.length, 3, 'an unknown user is bcrypt-checked too');
  assert.match(hasher.compared[2] as string, /^\$2b\$06\$/, 'against a hash of the same cost as the users');
  assert.equal(file.remembered, 0);
  file.close();
});

test('memory is bounded and holds no password; an edited file forgets every remembered pair', async () => {
  await using dir = makeTempDir('dib-pypi-pwfile-');
  const path = join(dir.path, 'users');
  const users = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`user${i}`, `secret-number-${i}`]));
  writeUsers(path, users);
  const hasher = countingHasher();
  const file = new PasswordFile({ path, hasher, pollMs: 0, maxRemembered: 3, log: () => undefined });
  for (const [user, password] of Object.entries(users)) assert.equal(await verdict(file, basic(user, password)), 'ok');
  assert.equal(file.remembered, 3, 'at most maxRemembered pairs');
  // What is kept: keyed digests and hashes from the file, never a password or the header that carried it.
  const kept = (await keptStrings(file)).join('\n');
  assert.match(kept, /\$2y\$04\$/, 'the walk does see what is kept (the hashes)');
  for (const [user, password] of Object.entries(users)) {
    assert.ok(!kept.includes(password), `the password of ${user} is not kept`);
    assert.ok(!kept.includes(basic(user, password).slice(6)), 'nor the header');
  }

  const before = hasher.compared.length;
  assert.equal(file.check(basic('user5', 'secret-number-5')), 'ok');
  writeUsers(path, { ...users, user5: 'changed' });
  const logged: string[] = [];
  const watched = new PasswordFile({ path, hasher, pollMs: 0, log: (line) => logged.push(line) });
  assert.equal(await verdict(watched, basic('user5', 'changed')), 'ok');
  await file.reload();
  assert.equal(file.remembered, 0, 'all forgotten');
  assert.equal(await verdict(file, basic('user5', 'secret-number-5')), 'bad', 'the old password is refused');
  assert.equal(await verdict(file, basic('user5', 'changed')), 'ok');
  assert.ok(hasher.compared.length > before);
  file.close();
  watched.close();
});

/**
 * Every string reachable from `value` (private fields, Map entries included), read through node's
 * inspector: what the object keeps in memory.
 */
async function keptStrings(value: object): Promise<string[]> {
  const session = new Session();
  session.connect();
  const holder = globalThis as { __kept?: object };
  holder.__kept = value;
  const strings: string[] = [];
  const walk = async (objectId: string, depth: number): Promise<void> => {
    if (depth > 6) return;
    // privateProperties: in the protocol (and node's answer), not yet in @types/node.
    const props = (await session.post('Runtime.getProperties', { objectId, ownProperties: true })) as Runtime.GetPropertiesReturnType & {
      privateProperties?: { name: string; value?: Runtime.RemoteObject }[];
    };
    for (const prop of [...props.result, ...(props.privateProperties ?? []), ...(props.internalProperties ?? [])]) {
      const inner = prop.value;
      if (inner?.type === 'string') strings.push(String(inner.value));
      else if (inner?.type === 'object' && inner.objectId !== undefined) await walk(inner.objectId, depth + 1);
    }
  };
  try {
    const { result } = await session.post('Runtime.evaluate', { expression: 'globalThis.__kept' });
    await walk(result.objectId as string, 0);
  } finally {
    delete holder.__kept;
    session.disconnect();
  }
  return strings;
}

test('the file is looked at every pollMs: a broken file refuses everyone (said once), a fixed one works again', async () => {
  await using dir = makeTempDir('dib-pypi-pwfile-');
  const path = join(dir.path, 'users');
  writeUsers(path, { alice: 'a-pass' });
  const logged: string[] = [];
  const file = new PasswordFile({ path, hasher: countingHasher(), pollMs: 20, log: (line) => logged.push(line) });
  assert.equal(await verdict(file, basic('alice', 'a-pass')), 'ok');
  writeFileSync(path, 'alice:$apr1$weak$hash\n');
  await waitFor(() => logged.some((line) => /no bcrypt hash/.test(line)));
  assert.equal(await verdict(file, basic('alice', 'a-pass')), 'bad');
  await sleep(100);
  assert.equal(logged.filter((line) => /no bcrypt hash/.test(line)).length, 1, 'said once');
  writeUsers(path, { alice: 'a-pass' });
  await waitFor(() => logged.some((line) => /changed: 1 user$/.test(line)));
  assert.equal(await verdict(file, basic('alice', 'a-pass')), 'ok');
  file.close();
});

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await sleep(20);
  assert.ok(check(), 'in time');
}

test('loopback hosts and the clear-text warning', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) assert.equal(isLoopbackHost(host), true, host);
  for (const host of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'example.internal', '128.0.0.1']) assert.equal(isLoopbackHost(host), false, host);
  assert.equal(clearTextWarning('0.0.0.0', { isUploading: false, hasPasswords: false, hasTls: false }), undefined, 'nothing secret');
  assert.equal(clearTextWarning('0.0.0.0', { isUploading: true, hasPasswords: true, hasTls: true }), undefined, 'TLS');
  assert.equal(clearTextWarning('127.0.0.1', { isUploading: true, hasPasswords: true, hasTls: false }), undefined, 'loopback');
  assert.match(clearTextWarning('::', { isUploading: true, hasPasswords: false, hasTls: false }) ?? '', /^uploads on :: without TLS/);
});

test('nginx site: auth_basic for all but /health, ssl when given', () => {
  const plain = renderNginxSite({ root: '/srv/pypi', listen: '127.0.0.1:8080' });
  assert.doesNotMatch(plain, /auth_basic "|auth_basic_user_file|ssl/);
  const guarded = renderNginxSite({
    root: '/srv/pypi',
    listen: '0.0.0.0:443',
    usersFile: '/etc/dib "pypi"/users',
    tls: { certFile: '/etc/c.pem', keyFile: '/etc/k.pem' },
  });
  assert.match(guarded, /listen 0\.0\.0\.0:443 ssl;/);
  assert.match(guarded, /auth_basic_user_file "\/etc\/dib \\"pypi\\"\/users";/);
  assert.match(guarded, /ssl_certificate "\/etc\/c\.pem";\n\s+ssl_certificate_key "\/etc\/k\.pem";/);
  assert.match(guarded, /location = \/health \{\n\s+auth_basic off;/);
});
