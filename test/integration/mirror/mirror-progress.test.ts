// Progress of the long mirror commands as a CI log sees it (stderr not a terminal): plain lines with counts, and silence when asked.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cleanEnv, runCli, runCliAsync } from '../../helpers/cli.js';
import { makeWheel } from '../../helpers/make-dist.js';
import { nginxProblem, startNginx } from '../../helpers/nginx.js';
import { need } from '../../helpers/require.js';

const FILES = 2000;
const PROJECTS = 100;

describe('progress of mirror index and verify', () => {
  let dir = '';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dib-pypi-progress-'));
    for (let p = 0; p < PROJECTS; p++) mkdirSync(join(dir, `proj-${p}`));
    for (let i = 0; i < FILES; i++) {
      const project = `proj-${i % PROJECTS}`;
      await makeWheel(join(dir, project), { name: project, version: `1.${Math.floor(i / PROJECTS)}` });
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('index: an end line for each phase, with counts and time', () => {
    const result = runCli(['mirror', 'index', dir], { env: cleanEnv({ DIB_PYPI_PROGRESS_INTERVAL: '0.2' }) });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /^dib-pypi: index: scanning done in \d+\.\d s$/m);
    assert.match(result.stderr, new RegExp(`^dib-pypi: index: inspecting ${FILES}/${FILES} files \\(100%\\), done in \\d+\\.\\d s`, 'm'));
    assert.match(result.stderr, new RegExp(`^dib-pypi: index: writing pages ${PROJECTS}/${PROJECTS} projects \\(100%\\), done in`, 'm'));
    assert.ok(!result.stderr.includes('\r'), 'no terminal control in a log');
    assert.match(result.stdout, new RegExp(`^indexed .*: ${PROJECTS} projects, ${FILES} files`));
  });

  test(`verify of ${FILES} files: periodic plain lines with counts, bytes and rate; the results on stdout unchanged`, () => {
    const result = runCli(['mirror', 'verify', dir], { env: cleanEnv({ DIB_PYPI_PROGRESS_INTERVAL: '0.05' }) });
    assert.equal(result.status, 0, result.stderr);
    const hashing = result.stderr.split('\n').filter((line) => line.startsWith('dib-pypi: verify: hashing '));
    assert.match(hashing[0] ?? '', new RegExp(`^dib-pypi: verify: hashing \\d+/${FILES} files \\(\\d+%\\), \\d+\\.\\d MB of \\d+\\.\\d MB, ETA --$`));
    assert.match(hashing.at(-1) ?? '', new RegExp(`^dib-pypi: verify: hashing ${FILES}/${FILES} files \\(100%\\), \\d+\\.\\d MB of \\d+\\.\\d MB, done in`));
    assert.ok(hashing.length >= 3, `a line between start and end:\n${result.stderr}`);
    for (const line of hashing.slice(1, -1)) assert.match(line, new RegExp(`^dib-pypi: verify: hashing \\d+/${FILES} files \\(\\d+%\\), `));
    assert.match(result.stderr, new RegExp(`^dib-pypi: verify: comparing pages ${PROJECTS}/${PROJECTS} projects \\(100%\\), done in`, 'm'));
    assert.match(result.stdout, new RegExp(`^verified .*: ${FILES} files, [\\d.]+ MB, all match the index\\n$`));
  });

  test('--progress=none, --quiet and DIB_PYPI_PROGRESS=none: nothing on stderr; --json on stdout as without progress', () => {
    const env = cleanEnv({ DIB_PYPI_PROGRESS_INTERVAL: '0.05' });
    const plain = runCli(['mirror', 'verify', dir, '--json'], { env });
    assert.equal(plain.status, 0, plain.stderr);
    assert.match(plain.stderr, /verify: hashing/);
    for (const [args, extra] of [
      [['--progress=none'], {}],
      [['--quiet'], {}],
      [['-q', '--progress', 'plain'], {}],
      [[], { DIB_PYPI_PROGRESS: 'none' }],
    ] as const) {
      const result = runCli(['mirror', 'verify', dir, '--json', ...args], { env: { ...env, ...extra } });
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stderr, '', `${args.join(' ')} ${JSON.stringify(extra)}`);
      assert.deepEqual(JSON.parse(result.stdout), JSON.parse(plain.stdout));
    }
    const index = runCli(['mirror', 'index', dir, '--quiet'], { env });
    assert.equal(index.status, 0, index.stderr);
    assert.equal(index.stderr, '');
    assert.match(index.stdout, /^indexed /);
  });

  test('--progress=tty on a pipe: one line redrawn in place, cleared at the end, no kept lines', () => {
    const result = runCli(['mirror', 'verify', dir, '--progress=tty'], { env: cleanEnv() });
    assert.equal(result.status, 0, result.stderr);
    assert.ok(result.stderr.startsWith(`\r\x1b[2Kverify: hashing 0/${FILES} files (0%)`), JSON.stringify(result.stderr.slice(0, 80)));
    assert.ok(result.stderr.endsWith('\r\x1b[2K'), 'the live line is removed at the end');
    assert.ok(!result.stderr.includes('\n'), 'nothing kept');
  });

  test('a bad --progress or DIB_PYPI_PROGRESS_INTERVAL is a usage error naming it', () => {
    const bad = runCli(['mirror', 'verify', dir, '--progress=fancy']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--progress: expected auto, tty, plain or none, got "fancy"/);
    const interval = runCli(['mirror', 'verify', dir], { env: cleanEnv({ DIB_PYPI_PROGRESS_INTERVAL: 'soon' }) });
    assert.equal(interval.status, 2);
    assert.match(interval.stderr, /DIB_PYPI_PROGRESS_INTERVAL: expected a number of seconds above 0, got "soon"/);
  });

  test('sync from an nginx upstream: an end line with projects, files and MB, then the index; --quiet silent', async (t) => {
    if (!need(t, nginxProblem() === undefined, nginxProblem() ?? '')) return;
    await using nginx = await startNginx(dir);
    const work = mkdtempSync(join(tmpdir(), 'dib-pypi-progress-sync-'));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const projects = Array.from({ length: 10 }, (_, i) => ['--project', `proj-${i}`]).flat();
    const env = cleanEnv({ DIB_PYPI_PROGRESS_INTERVAL: '0.05' });
    const result = await runCliAsync(['mirror', 'sync', join(work, 'a'), '--upstream', nginx.url, ...projects], { env });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /^dib-pypi: sync: downloading 10\/10 projects \(100%\), \d+\.\d MB, 200\/200 files, done in /m);
    assert.match(result.stderr, /^dib-pypi: index: writing pages 10\/10 projects \(100%\), done in /m);
    assert.match(result.stdout, /^synced 10 projects \(0 unchanged\): 200 files downloaded/);
    const quiet = await runCliAsync(['mirror', 'sync', join(work, 'b'), '--upstream', nginx.url, ...projects, '--quiet'], { env });
    assert.equal(quiet.status, 0, quiet.stderr);
    assert.equal(quiet.stderr, '');
    assert.match(quiet.stdout, /^synced 10 projects \(0 unchanged\): 200 files downloaded/);
  });
});
