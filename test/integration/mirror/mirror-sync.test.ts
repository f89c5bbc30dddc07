// `mirror sync` from a real nginx upstream (PEP 691 JSON and HTML-only), installed from by real pip; faults:
// 500s, wrong bytes, a stalled upstream, nginx killed mid-sync, the sync itself SIGKILLed; `mirror verify` after each.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { runCli, runCliAsync, cleanEnv, BIN } from '../../helpers/cli.js';
import { startFaultProxy } from '../../helpers/fault-server.js';
import { makeSdist, makeWheel } from '../../helpers/make-dist.js';
import { nginxProblem, startNginx, type NginxServer } from '../../helpers/nginx.js';
import { DEBIAN_PYTHON, envWithoutPip, makeTempDir } from '../../helpers/python.js';
import { need } from '../../helpers/require.js';
import { diffListings, listTree } from '../../helpers/tree-listing.js';
import { createServer } from 'node:net';
import { spawn } from 'node:child_process';

const UPLOADED = '2024-05-06T07:08:09.000000Z';

/** The upstream: a mirror as `mirror index` writes it (JSON + HTML), with a yanked file, an upload time, a dependency and an sdist. */
async function makeUpstream(dir: string): Promise<void> {
  for (const p of ['app', 'dep-lib', 'noise']) mkdirSync(join(dir, p));
  await makeWheel(join(dir, 'app'), { name: 'app', version: '1.0', requires: ['dep-lib>=2'], requiresPython: '>=3.7' });
  await makeWheel(join(dir, 'app'), { name: 'app', version: '0.9' });
  await makeWheel(join(dir, 'app'), { name: 'app', version: '2.0rc1' });
  makeSdist(join(dir, 'app'), { name: 'app', version: '1.0' });
  writeFileSync(join(dir, 'app', 'app-0.9-py3-none-any.whl.yanked'), 'broken build\n');
  writeFileSync(join(dir, 'app', 'app-1.0-py3-none-any.whl.upload-time'), `${UPLOADED}\n`);
  await makeWheel(join(dir, 'dep-lib'), { name: 'dep_lib', version: '2.1' });
  await makeWheel(join(dir, 'dep-lib'), { name: 'dep_lib', version: '1.0', tag: 'cp39-cp39-win_amd64' });
  for (let i = 0; i < 12; i++)
    await makeWheel(join(dir, 'noise'), { name: 'noise', version: `1.${i}`, data: { [`noise/blob${i}.bin`]: Buffer.alloc(200_000, i) } });
  const indexed = runCli(['mirror', 'index', dir]);
  assert.equal(indexed.status, 0, indexed.stderr);
}

/** The usual bed: an upstream (makeUpstream) served by nginx, and a work directory with the mirror's path in it. */
async function syncBed(): Promise<{ up: { path: string }; work: { path: string }; nginx: NginxServer; mirror: string } & AsyncDisposable> {
  const up = makeTempDir('dib-pypi-up-');
  const work = makeTempDir('dib-pypi-sync-');
  try {
    await makeUpstream(up.path);
    const nginx = await startNginx(up.path);
    const dispose = async () => {
      await nginx[Symbol.asyncDispose]();
      up.remove();
      work.remove();
    };
    return { up, work, nginx, mirror: join(work.path, 'mirror'), [Symbol.asyncDispose]: dispose };
  } catch (error) {
    up.remove();
    work.remove();
    throw error;
  }
}

function sync(dir: string, upstream: string, ...args: string[]) {
  return runCliAsync(['mirror', 'sync', dir, '--upstream', upstream, ...args]);
}

function verify(dir: string): void {
  const result = runCli(['mirror', 'verify', dir]);
  assert.equal(result.status, 0, `mirror verify failed:\n${result.stdout}\n${result.stderr}`);
}

function files(dir: string, project: string): string[] {
  return existsSync(join(dir, project)) ? readdirSync(join(dir, project)).sort() : [];
}

function dists(dir: string, project: string): string[] {
  return files(dir, project).filter((n) => /\.(whl|tar\.gz)$/.test(n) && !n.startsWith('.'));
}

function partFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((p) => p.includes('.part-'));
}

const ALL_APP = ['app-0.9-py3-none-any.whl', 'app-1.0-py3-none-any.whl', 'app-1.0.tar.gz', 'app-2.0rc1-py3-none-any.whl'];

function canRun(t: TestContext): boolean {
  return need(t, nginxProblem() === undefined, nginxProblem() ?? '');
}

describe('mirror sync', () => {
  test('syncs selected projects from nginx (JSON), marks yanked and upload time, re-indexes; pip installs; a second run fetches nothing', async (t) => {
    if (!canRun(t)) return;
    await using bed = await syncBed();
    const { up, nginx, mirror } = bed;
    const withSecret = nginx.url.replace('http://', 'http://syncer:s3cr3t-pw@');
    const first = await sync(mirror, withSecret, '--project', 'App', '--project', 'dep_lib');
    assert.equal(first.status, 0, first.stderr);
    assert.ok(!`${first.stdout}${first.stderr}`.includes('s3cr3t-pw'), 'credentials printed');
    assert.match(first.stdout, /synced 2 projects \(0 unchanged\): 6 files downloaded/);
    assert.deepEqual(dists(mirror, 'app'), ALL_APP);
    assert.deepEqual(dists(mirror, 'dep-lib'), ['dep_lib-1.0-cp39-cp39-win_amd64.whl', 'dep_lib-2.1-py3-none-any.whl']);
    assert.equal(existsSync(join(mirror, 'noise')), false);
    assert.equal(readFileSync(join(mirror, 'app', 'app-0.9-py3-none-any.whl.yanked'), 'utf8'), 'broken build\n');
    assert.equal(readFileSync(join(mirror, 'app', 'app-1.0-py3-none-any.whl.upload-time'), 'utf8'), `${UPLOADED}\n`);
    // the synced page says what the upstream's said
    const page = JSON.parse(readFileSync(join(mirror, 'app', 'index.json'), 'utf8'));
    const upstreamPage = JSON.parse(readFileSync(join(up.path, 'app', 'index.json'), 'utf8'));
    assert.deepEqual(page.files, upstreamPage.files);
    assert.ok(nginx.accessLog().includes('"application/vnd.pypi.simple.v1+json"'), 'JSON was negotiated');
    verify(mirror);

    await using target = makeTempDir('dib-pypi-sync-pip-');
    const pip = spawnSync(
      DEBIAN_PYTHON,
      [
        '-m',
        'pip',
        '--isolated',
        '--disable-pip-version-check',
        'install',
        '--no-cache-dir',
        '--index-url',
        `file://${mirror}`,
        '--target',
        target.path,
        'app',
      ],
      {
        env: envWithoutPip(process.env, { PIP_CONFIG_FILE: '/dev/null' }),
        encoding: 'utf8',
      },
    );
    assert.equal(pip.status, 0, pip.stderr);
    assert.deepEqual(
      readdirSync(target.path)
        .filter((n) => n.endsWith('.dist-info'))
        .sort(),
      ['app-1.0.dist-info', 'dep_lib-2.1.dist-info'],
    );

    const logBefore = nginx.accessLog().split('\n').length;
    const second = await sync(mirror, withSecret, '--project', 'app', '--project', 'dep-lib');
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /synced 2 projects \(2 unchanged\): 0 files downloaded/);
    const requests = nginx
      .accessLog()
      .trim()
      .split('\n')
      .slice(logBefore - 1);
    assert.equal(requests.length, 2, requests.join('\n'));
    for (const line of requests) assert.match(line, / 304 /);
    verify(mirror);
  });

  test('an HTML-only upstream, filters, --dry-run, --config (flags win), --delete', async (t) => {
    if (!canRun(t)) return;
    await using up = makeTempDir('dib-pypi-up-');
    await using work = makeTempDir('dib-pypi-sync-');
    await makeUpstream(up.path);
    for (const p of ['', 'app', 'dep-lib', 'noise']) rmSync(join(up.path, p, 'index.json'));
    // a hostile root page: a "project" whose name would be a path
    const rootPage = join(up.path, 'index.html');
    writeFileSync(rootPage, readFileSync(rootPage, 'utf8').replace('</body>', '<a href="x/">../../escaped</a></body>'));
    await using nginx = await startNginx(up.path);
    const mirror = join(work.path, 'mirror');

    const dry = await sync(mirror, nginx.url, '--package-type', 'wheel', '--latest', '1', '--exclude', 'noise', '--dry-run');
    assert.equal(dry.status, 0, dry.stderr);
    assert.equal(existsSync(mirror), false, 'a dry run wrote something');
    assert.match(dry.stdout, /would download app\/app-1\.0-py3-none-any\.whl/);
    assert.match(dry.stdout, /would download dep-lib\/dep_lib-2\.1-py3-none-any\.whl/);
    assert.match(dry.stdout, /dry run: 2 files to download/);

    const config = join(work.path, 'sync.toml');
    writeFileSync(
      config,
      `[sync]\nupstream = "${nginx.url}"\npackage-type = ["wheel"]\npython-version = ["3.11"]\nplatform = ["manylinux_2_17_x86_64"]\nlatest = 5\nexclude = ["noise"]\n`,
    );
    const filtered = await runCliAsync(['mirror', 'sync', mirror, '--config', config, '--latest', '2']);
    assert.equal(filtered.status, 0, filtered.stderr);
    assert.match(filtered.stderr, /root page: skipped "\.\.\/\.\.\/escaped": not a project name/);
    assert.equal(existsSync(join(work.path, 'escaped')), false);
    // yanked 0.9 and the pre-release do not count as releases: the latest two are 1.0 (app) and 2.1 (dep-lib); 1.0 is win-only
    assert.deepEqual(dists(mirror, 'app'), ['app-1.0-py3-none-any.whl']);
    assert.deepEqual(dists(mirror, 'dep-lib'), ['dep_lib-2.1-py3-none-any.whl']);
    assert.equal(existsSync(join(mirror, 'noise')), false);
    assert.ok(!nginx.accessLog().includes('vnd.pypi.simple.v1+json"\n'), 'no JSON was served');
    verify(mirror);

    // wider filters: more files; then narrower with --delete: the extras go
    const wide = await sync(mirror, nginx.url, '--project', 'app');
    assert.equal(wide.status, 0, wide.stderr);
    assert.deepEqual(dists(mirror, 'app'), ALL_APP);
    const narrow = await sync(mirror, nginx.url, '--project', 'app', '--package-type', 'sdist');
    assert.equal(narrow.status, 0, narrow.stderr);
    assert.deepEqual(dists(mirror, 'app'), ALL_APP, 'kept without --delete');
    const deleting = await sync(mirror, nginx.url, '--project', 'app', '--package-type', 'sdist', '--delete');
    assert.equal(deleting.status, 0, deleting.stderr);
    assert.deepEqual(dists(mirror, 'app'), ['app-1.0.tar.gz']);
    assert.ok(!files(mirror, 'app').some((n) => n.endsWith('.yanked') || n.endsWith('.metadata')), files(mirror, 'app').join(' '));
    verify(mirror);

    const bad = await sync(mirror, nginx.url, '--latest', 'many');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--latest: expected a whole number/);
    const missing = await sync(mirror, nginx.url, '--project', 'no-such-project');
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no-such-project: not on the upstream \(HTTP 404/);
  });

  test("the root page's X-PyPI-Last-Serial unchanged: the second run asks for nothing else and skips the re-index", async (t) => {
    if (!canRun(t)) return;
    await using up = makeTempDir('dib-pypi-up-');
    await using work = makeTempDir('dib-pypi-sync-');
    await makeUpstream(up.path);
    await using nginx = await startNginx(up.path);
    await using proxy = await startFaultProxy(nginx.url, [{ path: /^\/$/, fault: { kind: 'header', name: 'x-pypi-last-serial', value: '42' } }]);
    const mirror = join(work.path, 'mirror');
    const first = await sync(mirror, proxy.url);
    assert.equal(first.status, 0, first.stderr);
    const before = proxy.log.length;
    const second = await sync(mirror, proxy.url);
    assert.equal(second.status, 0, second.stderr);
    assert.deepEqual(
      proxy.log.slice(before).map((l) => l.path),
      ['/'],
    );
    assert.match(second.stdout, /synced 3 projects \(3 unchanged\): 0 files downloaded/);
    assert.doesNotMatch(second.stdout, /indexed/);
    // a killed re-index is redone: state says not indexed
    const state = join(mirror, '.dib-pypi', 'sync-state.json');
    writeFileSync(state, readFileSync(state, 'utf8').replace('"isIndexed":true', '"isIndexed":false'));
    rmSync(join(mirror, 'app', 'index.html'));
    const third = await sync(mirror, proxy.url);
    assert.equal(third.status, 0, third.stderr);
    assert.match(third.stdout, /indexed/);
    verify(mirror);
  });

  test("the root JSON page's pages digest from `mirror index` (plain nginx, no serial header): the second run asks for / only; a change upstream moves it and the next run takes the change", async (t) => {
    if (!canRun(t)) return;
    await using bed = await syncBed();
    const { up, nginx, mirror } = bed;
    const digestOf = () => (JSON.parse(readFileSync(join(up.path, 'index.json'), 'utf8')) as { meta: Record<string, unknown> }).meta['_dib-pypi-pages'];
    const digest = digestOf();
    assert.match(String(digest), /^[0-9a-f]{64}$/);
    const first = await sync(mirror, nginx.url);
    assert.equal(first.status, 0, first.stderr);
    const requestsOf = async (...args: string[]) => {
      const before = nginx.accessLog().split('\n').length;
      const run = await sync(mirror, nginx.url, ...args);
      assert.equal(run.status, 0, run.stderr);
      return {
        run,
        requests: nginx
          .accessLog()
          .trim()
          .split('\n')
          .slice(before - 1)
          .map((line) => line.split(' ').slice(0, 3).join(' ')),
      };
    };
    const second = await requestsOf();
    assert.deepEqual(second.requests, ['GET / 200']);
    assert.match(second.run.stdout, /synced 3 projects \(3 unchanged\): 0 files downloaded/);
    assert.doesNotMatch(second.run.stdout, /indexed/);
    // a re-index that changes nothing keeps the digest (and the page's bytes)
    assert.equal(runCli(['mirror', 'index', up.path]).status, 0);
    assert.equal(digestOf(), digest);
    // another filter: the records were made with other settings, every page is asked for again
    const filtered = await requestsOf('--package-type', 'wheel');
    assert.equal(filtered.requests.length, 4, filtered.requests.join('\n'));
    // a new release of one project: its page changes, so does the digest; the next run takes it
    await makeWheel(join(up.path, 'dep-lib'), { name: 'dep_lib', version: '3.0' });
    assert.equal(runCli(['mirror', 'index', up.path]).status, 0);
    assert.notEqual(digestOf(), digest);
    // nginx's open_file_cache (valid 1 s) may still hand out the replaced root page for a moment
    for (let tries = 0; !(await (await fetch(`${nginx.url}index.json`)).text()).includes(String(digestOf())); tries++) {
      assert.ok(tries < 40, 'nginx kept serving the old root page');
      await new Promise((done) => setTimeout(done, 100));
    }
    const third = await requestsOf('--package-type', 'wheel');
    assert.ok(third.requests.includes('GET /dep-lib/ 200'), third.requests.join('\n'));
    assert.ok(third.requests.includes('GET /dep-lib/dep_lib-3.0-py3-none-any.whl 200'), third.requests.join('\n'));
    assert.ok(existsSync(join(mirror, 'dep-lib', 'dep_lib-3.0-py3-none-any.whl')));
    assert.deepEqual((await requestsOf('--package-type', 'wheel')).requests, ['GET / 200']);
    verify(mirror);
  });

  test('--latest without --pre: a project with only pre-releases takes its newest (as pip would); a project with nothing to take is reported, no empty directory', async (t) => {
    if (!canRun(t)) return;
    await using up = makeTempDir('dib-pypi-up-');
    await using work = makeTempDir('dib-pypi-sync-');
    for (const p of ['beta-only', 'sdist-only', 'final']) mkdirSync(join(up.path, p));
    await makeWheel(join(up.path, 'beta-only'), { name: 'beta_only', version: '1.0b1' });
    await makeWheel(join(up.path, 'beta-only'), { name: 'beta_only', version: '1.0b2' });
    makeSdist(join(up.path, 'sdist-only'), { name: 'sdist-only', version: '1.0' });
    await makeWheel(join(up.path, 'final'), { name: 'final', version: '1.0' });
    await makeWheel(join(up.path, 'final'), { name: 'final', version: '2.0rc1' });
    assert.equal(runCli(['mirror', 'index', up.path]).status, 0);
    await using nginx = await startNginx(up.path);
    const mirror = join(work.path, 'mirror');
    const args = ['--latest', '1', '--package-type', 'wheel'];

    const dry = await sync(mirror, nginx.url, ...args, '--dry-run');
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /would download beta-only\/beta_only-1\.0b2-py3-none-any\.whl/);
    assert.match(dry.stdout, /would download final\/final-1\.0-py3-none-any\.whl/);
    assert.match(dry.stdout, /dry run: 2 files to download, .*, 1 projects skipped, 0 failed/);

    const real = await sync(mirror, nginx.url, ...args);
    assert.equal(real.status, 0, real.stderr);
    assert.deepEqual(dists(mirror, 'beta-only'), ['beta_only-1.0b2-py3-none-any.whl']);
    assert.deepEqual(dists(mirror, 'final'), ['final-1.0-py3-none-any.whl']);
    assert.equal(existsSync(join(mirror, 'sdist-only')), false, 'an empty project directory was left');
    const skippedLine = /^dib-pypi: skipped project sdist-only: no file passes the filters \(1 package type sdist\)$/m;
    assert.match(real.stderr, skippedLine);
    assert.match(dry.stderr, skippedLine);
    assert.match(real.stdout, /^synced 2 projects \(0 unchanged; 1 more skipped: no file to take\): 2 files downloaded/m);
    verify(mirror);
  });

  test('--dry-run names each failure and its reason, as the real run does', async (t) => {
    if (!canRun(t)) return;
    await using bed = await syncBed();
    mkdirSync(join(bed.mirror, 'dep-lib'), { recursive: true });
    writeFileSync(join(bed.mirror, 'dep-lib', 'dep_lib-2.1-py3-none-any.whl'), 'not the upstream bytes');
    const args = ['--project', 'dep-lib', '--project', 'no-such-project'];
    const failures = (stderr: string) =>
      stderr
        .split('\n')
        .filter((l) => l.startsWith('dib-pypi: failed: '))
        .sort();
    const dry = await sync(bed.mirror, bed.nginx.url, ...args, '--dry-run');
    assert.equal(dry.status, 1, dry.stderr);
    assert.match(dry.stdout, /dry run: .* 2 failed; nothing written/);
    const real = await sync(bed.mirror, bed.nginx.url, ...args);
    assert.equal(real.status, 1, real.stderr);
    assert.equal(failures(dry.stderr).length, 2, dry.stderr);
    assert.deepEqual(failures(dry.stderr), failures(real.stderr));
    assert.match(dry.stderr, /^dib-pypi: failed: dep-lib\/dep_lib-2\.1-py3-none-any\.whl: in the mirror with 22 bytes, upstream has \d+; not overwritten/m);
    assert.match(dry.stderr, /^dib-pypi: failed: no-such-project: not on the upstream \(HTTP 404/m);
  });

  test('a sync that fails before its first download leaves a directory that was not a mirror exactly as it was', async () => {
    await using work = makeTempDir('dib-pypi-sync-');
    // A loopback port nothing listens on.
    const probe = createServer();
    await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
    const closed = `http://127.0.0.1:${(probe.address() as { port: number }).port}/`;
    await new Promise((done) => probe.close(done));
    const dir = join(work.path, 'my-files');
    mkdirSync(join(dir, 'app'), { recursive: true });
    writeFileSync(join(dir, 'notes.txt'), 'mine\n');
    writeFileSync(join(dir, 'app', 'README'), 'also mine\n');
    const before = listTree(dir);
    for (const args of [[], ['--project', 'app', '--project', 'other'], ['--json']]) {
      const result = await sync(dir, closed, '--retries', '0', ...args);
      assert.equal(result.status, 1, result.stderr);
      assert.deepEqual(diffListings(before, listTree(dir)), [], `after mirror sync ${args.join(' ')}: ${result.stderr}`);
    }
    // A directory the failed sync would have made is not left behind either.
    const fresh = join(work.path, 'never');
    const failed = await sync(fresh, closed, '--retries', '0', '--project', 'app');
    assert.equal(failed.status, 1, failed.stderr);
    assert.equal(existsSync(fresh), false);
  });

  test('500s are retried; a file always 500, a file with other bytes than its hash: failed, the rest synced, exit 1, nothing unverified kept', async (t) => {
    if (!canRun(t)) return;
    await using up = makeTempDir('dib-pypi-up-');
    await using work = makeTempDir('dib-pypi-sync-');
    await makeUpstream(up.path);
    // bytes changed after indexing: the page's hash no longer matches
    const wheel = join(up.path, 'noise', 'noise-1.3-py3-none-any.whl');
    const bytes = readFileSync(wheel);
    bytes[bytes.length - 100] = (bytes[bytes.length - 100] as number) ^ 0xff;
    writeFileSync(wheel, bytes);
    await using nginx = await startNginx(up.path);
    await using proxy = await startFaultProxy(nginx.url, [
      { path: /noise-1\.1-py3/, fault: { kind: 'status', status: 503, times: 2 } },
      { path: /^\/app\/$/, fault: { kind: 'status', status: 500, times: 1 } },
      { path: /noise-1\.2-py3/, fault: { kind: 'status', status: 500, times: 1000 } },
    ]);
    const mirror = join(work.path, 'mirror');
    const result = await sync(mirror, proxy.url, '--retries', '2', '--jobs', '3');
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /failed: noise\/noise-1\.2-py3-none-any\.whl: .*noise-1\.2-py3-none-any\.whl: HTTP 500/);
    assert.match(result.stderr, /failed: noise\/noise-1\.3-py3-none-any\.whl: .*hash mismatch: expected sha256 [0-9a-f]{64}, got [0-9a-f]{64}/);
    assert.match(result.stderr, /retry 1\/2: .*HTTP 503/);
    assert.match(result.stdout, /2 failed/);
    assert.equal(proxy.log.filter((l) => l.path.includes('noise-1.2-py3')).length, 3, 'one try and two retries');
    const noise = dists(mirror, 'noise');
    assert.equal(noise.length, 10);
    assert.ok(!noise.includes('noise-1.3-py3-none-any.whl') && !noise.includes('noise-1.2-py3-none-any.whl'));
    assert.ok(noise.includes('noise-1.1-py3-none-any.whl'));
    assert.deepEqual(dists(mirror, 'app'), ALL_APP);
    assert.deepEqual(partFiles(mirror), []);
    verify(mirror);
  });

  test('a stalled upstream: retried, then a clear timeout message and exit 1', async (t) => {
    if (!canRun(t)) return;
    await using up = makeTempDir('dib-pypi-up-');
    await using work = makeTempDir('dib-pypi-sync-');
    await makeUpstream(up.path);
    await using nginx = await startNginx(up.path);
    await using proxy = await startFaultProxy(nginx.url, [{ path: /dep_lib-2\.1/, fault: { kind: 'stall' } }]);
    const mirror = join(work.path, 'mirror');
    const started = Date.now();
    const result = await sync(mirror, proxy.url, '--project', 'dep-lib', '--timeout', '1', '--retries', '1');
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /failed: dep-lib\/dep_lib-2\.1-py3-none-any\.whl: .*stalled: no data for 1 s/);
    assert.ok(Date.now() - started < 15_000);
    assert.deepEqual(dists(mirror, 'dep-lib'), ['dep_lib-1.0-cp39-cp39-win_amd64.whl']);
    assert.deepEqual(partFiles(mirror), []);
    verify(mirror);
  });

  test('nginx killed mid-sync: exit 1, nothing partial; a later run resumes and only fetches the rest', async (t) => {
    if (!canRun(t)) return;
    await using up = makeTempDir('dib-pypi-up-');
    await using work = makeTempDir('dib-pypi-sync-');
    await makeUpstream(up.path);
    const nginx = await startNginx(up.path);
    await using slow = await startFaultProxy(nginx.url, [{ path: /noise-/, fault: { kind: 'delay', ms: 150 } }]);
    const mirror = join(work.path, 'mirror');
    const child = spawn(
      process.execPath,
      ['--', BIN, 'mirror', 'sync', mirror, '--upstream', slow.url, '--project', 'noise', '--jobs', '1', '--retries', '1'],
      {
        env: cleanEnv({ DIB_PYPI_TEST_TRACE_STEPS: '1' }),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stdout.resume();
    const status = new Promise<number | null>((resolve) => child.on('close', resolve));
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        if (/step 3: downloaded/.test(stderr)) resolve();
      });
    });
    await nginx.stop(); // nginx's fast shutdown: connections closed, the port refused
    assert.equal(await status, 1, stderr);
    assert.match(stderr, /failed: noise\/noise-1\.\d+-py3-none-any\.whl: .*HTTP 502/);
    const got = dists(mirror, 'noise').length;
    assert.ok(got >= 3 && got < 12, `downloaded ${got}`);
    assert.deepEqual(partFiles(mirror), []);
    verify(mirror);

    await using again = await startNginx(up.path);
    const resumed = await sync(mirror, again.url, '--project', 'noise');
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`${12 - got} files downloaded .*, ${got} already present`));
    assert.equal(dists(mirror, 'noise').length, 12);
    verify(mirror);
  });

  test('the sync SIGKILLed after a download: no unverified file under a final name; the next run cleans up and finishes', async (t) => {
    if (!canRun(t)) return;
    await using bed = await syncBed();
    const { up, nginx, mirror } = bed;
    const killed = await runCliAsync(['mirror', 'sync', mirror, '--upstream', nginx.url, '--jobs', '4'], { env: cleanEnv({ DIB_PYPI_TEST_FAULT_AT: '5' }) });
    assert.equal(killed.signal, 'SIGKILL');
    const upstreamBytes = (p: string, n: string) => readFileSync(join(up.path, p, n));
    for (const project of ['app', 'dep-lib', 'noise'])
      for (const n of dists(mirror, project)) assert.ok(readFileSync(join(mirror, project, n)).equals(upstreamBytes(project, n)), n);
    const resumed = await sync(mirror, nginx.url);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stdout, /synced 3 projects/);
    assert.deepEqual(partFiles(mirror), []);
    assert.equal(dists(mirror, 'noise').length + dists(mirror, 'app').length + dists(mirror, 'dep-lib').length, 18);
    verify(mirror);
  });

  test('a power loss after the files were renamed but before the durable point: the next run re-hashes what the journal lists, fetches a lost file again', async (t) => {
    if (!canRun(t)) return;
    await using bed = await syncBed();
    const { up, nginx, mirror } = bed;
    // 18 downloads, then the step before the syncfs: killed with every file in place, the state saying every project complete
    const killed = await runCliAsync(['mirror', 'sync', mirror, '--upstream', nginx.url], { env: cleanEnv({ DIB_PYPI_TEST_FAULT_AT: '19' }) });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    const journal = readFileSync(join(mirror, '.dib-pypi', 'sync-journal'), 'utf8');
    const journaled = journal.split('\n').filter((l) => / noise\/noise-1\.4-py3-none-any\.whl$/.test(l));
    assert.equal(journaled.length, 1, journal);
    assert.match(journal, / app\/app-0\.9-py3-none-any\.whl\.yanked$/m, 'sidecars are journaled too');
    const state = JSON.parse(readFileSync(join(mirror, '.dib-pypi', 'sync-state.json'), 'utf8'));
    assert.ok(state.projects.noise !== undefined, 'the killed run had recorded noise as complete');
    // what a power loss does to a file whose data was still in the page cache: the name survives, the bytes do not
    const lost = join(mirror, 'noise', 'noise-1.4-py3-none-any.whl');
    truncateSync(lost, 100);
    const repaired = await sync(mirror, nginx.url);
    assert.equal(repaired.status, 0, repaired.stderr);
    assert.match(repaired.stderr, /checked 20 files an unfinished run wrote: removed 1 not intact \(fetched again\): noise\/noise-1\.4-py3-none-any\.whl/);
    assert.match(repaired.stdout, /1 files downloaded/);
    assert.ok(readFileSync(lost).equals(readFileSync(join(up.path, 'noise', 'noise-1.4-py3-none-any.whl'))));
    assert.equal(existsSync(join(mirror, '.dib-pypi', 'sync-journal')), false, 'a finished run leaves no journal');
    verify(mirror);
  });

  test('--delete while syncing every project: projects gone from the root page or excluded are removed whole; never without --delete, nor with --project', async (t) => {
    if (!canRun(t)) return;
    await using bed = await syncBed();
    const { up, nginx, mirror } = bed;
    assert.equal((await sync(mirror, nginx.url)).status, 0);
    mkdirSync(join(mirror, 'Not_A_Project_Dir'));
    await makeWheel(join(mirror, 'Not_A_Project_Dir'), { name: 'mine', version: '1.0' });
    // noise leaves the upstream
    rmSync(join(up.path, 'noise'), { recursive: true });
    const reindexed = runCli(['mirror', 'index', up.path]);
    assert.equal(reindexed.status, 0, reindexed.stderr);
    assert.doesNotMatch(readFileSync(join(up.path, 'index.html'), 'utf8'), /noise/, 'precondition: the upstream root page no longer lists noise');
    // nginx keeps open files for up to 1 s (open_file_cache_valid): wait until it serves the new root page
    // (a sync that came sooner still saw noise there, and the dry run below had nothing to delete).
    for (const started = Date.now(); ; await new Promise((r) => setTimeout(r, 100))) {
      const served = await (await fetch(nginx.url, { headers: { accept: 'application/vnd.pypi.simple.v1+json' } })).text();
      if (!served.includes('noise')) break;
      assert.ok(Date.now() - started < 10_000, 'nginx still serves the old root page after 10 s');
    }
    const kept = await sync(mirror, nginx.url);
    assert.equal(kept.status, 0, kept.stderr);
    assert.equal(dists(mirror, 'noise').length, 12, 'kept without --delete');
    const selected = await sync(mirror, nginx.url, '--project', 'app', '--delete');
    assert.equal(selected.status, 0, selected.stderr);
    assert.equal(dists(mirror, 'noise').length, 12, 'kept with --project: only the named projects are synced');
    const dry = await sync(mirror, nginx.url, '--delete', '--dry-run');
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stderr, /would delete project noise/, dry.stdout);
    assert.equal(dists(mirror, 'noise').length, 12);

    const deleting = await sync(mirror, nginx.url, '--delete');
    assert.equal(deleting.status, 0, deleting.stderr);
    assert.match(deleting.stdout, /12 deleted \(1 projects removed\)/);
    assert.equal(existsSync(join(mirror, 'noise')), false, 'files, sidecars, .metadata, pages and the directory gone');
    assert.ok(existsSync(join(mirror, 'Not_A_Project_Dir', 'mine-1.0-py3-none-any.whl')), "a directory that is not a project name is not sync's");
    const root = JSON.parse(readFileSync(join(mirror, 'index.json'), 'utf8')) as { projects: { name: string }[] };
    assert.ok(!root.projects.some((p) => p.name === 'noise'), JSON.stringify(root.projects));
    assert.doesNotMatch(readFileSync(join(mirror, 'index.html'), 'utf8'), /noise/);
    assert.deepEqual(dists(mirror, 'app'), ALL_APP);
    verify(mirror);

    // an excluded project goes too, with --delete
    const excluded = await sync(mirror, nginx.url, '--delete', '--exclude', 'dep-*');
    assert.equal(excluded.status, 0, excluded.stderr);
    assert.equal(existsSync(join(mirror, 'dep-lib')), false);
    assert.deepEqual(dists(mirror, 'app'), ALL_APP);
    verify(mirror);
  });
});

test('mirror sync from dib-pypi serve as the upstream: its JSON pages, and an HTML-only tree it serves as it is', async () => {
  const { startServe } = await import('../../helpers/serve.js');
  const { writeSimpleIndex } = await import('../../helpers/make-dist.js');
  await using up = makeTempDir('dib-pypi-sync-serve-up-');
  await using work = makeTempDir('dib-pypi-sync-serve-');
  await makeUpstream(up.path);
  await using server = await startServe([up.path, '--access-log']);
  const mirror = join(work.path, 'mirror');
  const synced = await sync(mirror, `${server.url}simple/`, '--project', 'app', '--project', 'dep-lib');
  assert.equal(synced.status, 0, synced.stderr);
  assert.deepEqual(dists(mirror, 'app'), ALL_APP);
  assert.equal(readFileSync(join(mirror, 'app', 'app-1.0-py3-none-any.whl.upload-time'), 'utf8'), `${UPLOADED}\n`, 'upload-time came from the JSON page');
  assert.match(server.output(), /"GET \/simple\/app\/ HTTP\/1\.1" 200 /);
  verify(mirror);
  const again = await sync(mirror, `${server.url}simple/`, '--project', 'app', '--project', 'dep-lib');
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /0 files downloaded|2 unchanged/, 'a second run against serve fetches nothing (ETag / 304)');

  await using htmlUp = makeTempDir('dib-pypi-sync-serve-html-');
  await makeWheel(htmlUp.path, { name: 'Html.Only', version: '2.0' });
  writeSimpleIndex(htmlUp.path);
  await using htmlServer = await startServe([htmlUp.path, '--no-index']);
  const htmlMirror = join(work.path, 'html-mirror');
  const fromHtml = await sync(htmlMirror, htmlServer.url, '--project', 'html-only');
  assert.equal(fromHtml.status, 0, fromHtml.stderr);
  assert.deepEqual(
    dists(htmlMirror, 'html-only'),
    readdirSync(htmlUp.path).filter((n) => n.endsWith('.whl')),
    'the wheel, read from an HTML page',
  );
  verify(htmlMirror);
});
